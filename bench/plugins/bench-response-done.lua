-- Bench workload (c): x-plugin: done on the response.
function on_response(h)
  h:headers():add("x-plugin", "done")
end
