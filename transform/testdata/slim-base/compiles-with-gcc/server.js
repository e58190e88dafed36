require("child_process").execFileSync("./helper");
