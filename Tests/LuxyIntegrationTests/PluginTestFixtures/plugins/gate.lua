-- Fixture (tcp): refuses clients from 10.6.6.6, holds bytes until a newline, closes on "QUIT".
function on_connect(conn)
  if conn:sourceAddress():match("^10%.6%.6%.6:") then return false end
end

function on_downstream_data(conn, data, end_of_stream)
  if data:find("QUIT") then conn:close() return "" end
  if not data:find("\n") and not end_of_stream then return false end
  return data:upper()
end
