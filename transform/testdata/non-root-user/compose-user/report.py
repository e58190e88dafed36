import json

with open("report.json", "w") as f:
    json.dump({"ok": True}, f)
