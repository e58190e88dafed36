import { createServer } from "node:http";

const stock = new Map<string, number>([["widget", 3]]);

createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(Object.fromEntries(stock)));
}).listen(Number(process.env.PORT ?? 3000));
