import os
import sqlite3

db = sqlite3.connect(os.path.join(os.environ["LEDGER_DIR"], "ledger.db"))
db.execute("create table if not exists entries (amount integer)")
