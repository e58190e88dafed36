require "sinatra"
get("/") { "ok" }
