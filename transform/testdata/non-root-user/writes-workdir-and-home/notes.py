import os
import sqlite3
from http.server import BaseHTTPRequestHandler, HTTPServer

db = sqlite3.connect("notes.db")
db.execute("create table if not exists notes (body text)")
state = os.path.expanduser("~/.notes-state")
with open(state, "a") as f:
    f.write("started\n")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        with open("/documents/last-visit", "w") as f:
            f.write(self.path)
        self.send_response(200)
        self.end_headers()


HTTPServer(("", 8000), Handler).serve_forever()
