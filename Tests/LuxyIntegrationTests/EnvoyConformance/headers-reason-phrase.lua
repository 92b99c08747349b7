-- Envoy: setHttp1ReasonPhrase() on the response headers sets the reason phrase of the
-- HTTP/1.1 status line the client gets. (Envoy Lua filter docs, "setHttp1ReasonPhrase()";
-- wrappers.cc HeaderMapWrapper::luaSetHttp1ReasonPhrase)
--@status: 200
--@reason: Very Fine
function envoy_on_response(response_handle)
  response_handle:headers():setHttp1ReasonPhrase("Very Fine")
end
