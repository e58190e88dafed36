//yarn
