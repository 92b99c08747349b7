-- metrics-http: Prometheus metrics for every request, counted in the log phase (so local
-- replies, plugin failures, upstream failures and clients that left are counted too):
--
--   luxy_http_requests_total{direction,route,service,cluster,status_class}   counter
--   luxy_http_request_duration_seconds{direction,route,service,cluster}       histogram
--   luxy_http_request_bytes{direction,route,service,cluster}                  histogram (body bytes in)
--   luxy_http_response_bytes{direction,route,service,cluster}                 histogram (body bytes out)
--
-- status_class is 1xx … 5xx, or "none" when no response was sent (the client left). Labels
-- absent for a request (no route matched, no service) are "". Families are defined once per
-- worker at load, summed over workers on /metrics and kept across reloads while unchanged.
--
-- config:
--   duration_buckets: seconds (default Prometheus' client defaults)
--   size_buckets: bytes (default 100 B … 10 MB by powers of ten)

schema = {
  type = "object",
  properties = {
    duration_buckets = { type = "array", minItems = 1, items = { type = "number", minimum = 0 },
                         default = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 } },
    size_buckets = { type = "array", minItems = 1, items = { type = "number", minimum = 0 },
                     default = { 100, 1000, 10000, 100000, 1000000, 10000000 } },
  },
}

local labels = { "direction", "route", "service", "cluster" }
local requests = luxy.metrics.counter("luxy_http_requests_total", "HTTP requests by how they ended.",
  { "direction", "route", "service", "cluster", "status_class" })
local duration = luxy.metrics.histogram("luxy_http_request_duration_seconds",
  "Time from the request head to the end of the exchange.", labels, config.duration_buckets)
local request_bytes = luxy.metrics.histogram("luxy_http_request_bytes",
  "Request body bytes received from the client.", labels, config.size_buckets)
local response_bytes = luxy.metrics.histogram("luxy_http_response_bytes",
  "Response body bytes sent to the client.", labels, config.size_buckets)

local classes = { [1] = "1xx", [2] = "2xx", [3] = "3xx", [4] = "4xx", [5] = "5xx" }

function on_log(h)
  local info = h:streamInfo()
  local direction, route, service, cluster = h:direction(), h:route() or "", h:service() or "", h:cluster() or ""
  requests:inc(1, direction, route, service, cluster, classes[info:responseCode() // 100] or "none")
  duration:observe(info:duration() / 1000, direction, route, service, cluster)
  request_bytes:observe(info:bytesReceived(), direction, route, service, cluster)
  response_bytes:observe(info:bytesSent(), direction, route, service, cluster)
end
