require "sinatra"

get "/healthz" do
  "ok"
end
