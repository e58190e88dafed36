const fs = require("fs");
const http = require("http");

fs.writeFileSync("server.pid", String(process.pid));
http.createServer((req, res) => {
  fs.appendFileSync("requests.log", req.url + "\n");
  res.end("ok");
}).listen(3000);
