function envoy_on_response(response_handle)
  response_handle:logInfo("Bye Bye.")
end
