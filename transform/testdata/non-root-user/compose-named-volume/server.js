const fs = require("fs");
const http = require("http");
const file = process.env.DATA_DIR + "/count";

http.createServer((req, res) => {
  const n = (fs.existsSync(file) ? Number(fs.readFileSync(file)) : 0) + 1;
  fs.writeFileSync(file, String(n));
  res.end(String(n));
}).listen(3000);
