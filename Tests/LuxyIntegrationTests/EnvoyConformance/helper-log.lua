-- Envoy: logInfo()/logWarn()/logErr() write the message to the proxy's log. (Envoy Lua filter
-- docs, "logTrace/logDebug/logInfo/logWarn/logErr/logCritical")
--@status: 200
--@log: conformance info message
--@log: conformance warn message
--@log: conformance error message
function envoy_on_request(request_handle)
  request_handle:logInfo("conformance info message")
  request_handle:logWarn("conformance warn message")
  request_handle:logErr("conformance error message")
end
