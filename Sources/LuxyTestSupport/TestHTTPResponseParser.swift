import Foundation
import NIOCore

/// Parses one HTTP/1.1 response off the front of a buffer: content-length, chunked, or
/// read-until-close bodies. Returns nil while the response is incomplete.
enum TestHTTPResponseParser {
    static func parse(_ buffer: inout ByteBuffer, isHead: Bool, isClosed: Bool) throws -> TestHTTPResponse? {
        let text = String(buffer: buffer)
        guard let headEnd = text.range(of: "\r\n\r\n") else { return nil }
        let headText = text[..<headEnd.lowerBound]
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            throw TestHTTPClientError.malformed(text)
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw TestHTTPClientError.malformed(text) }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: " ")))
        }
        let headBytes = headText.utf8.count + 4
        var bodyBytes = Array(buffer.readableBytesView.dropFirst(headBytes))
        func response(_ body: [UInt8], _ consumed: Int) -> TestHTTPResponse {
            buffer.moveReaderIndex(forwardBy: consumed)
            buffer.discardReadBytes()
            return TestHTTPResponse(status: status, headers: headers, body: String(decoding: body, as: UTF8.self),
                                    reasonPhrase: statusLine.dropFirst(2).joined(separator: " "))
        }
        let lookup = { (name: String) in headers.first { $0.name.lowercased() == name }?.value }
        if isHead || status == 204 || status == 304 || (100..<200).contains(status) {
            return response([], headBytes)
        }
        if let length = lookup("content-length").flatMap({ Int($0) }) {
            guard bodyBytes.count >= length else { return nil }
            return response(Array(bodyBytes.prefix(length)), headBytes + length)
        }
        if lookup("transfer-encoding")?.lowercased() == "chunked" {
            var body: [UInt8] = []
            var offset = 0
            while true {
                guard let lineEnd = find(crlfIn: bodyBytes, from: offset) else { return nil }
                let sizeText = String(decoding: bodyBytes[offset..<lineEnd], as: UTF8.self).split(separator: ";")[0]
                guard let size = Int(sizeText.trimmingCharacters(in: " "), radix: 16) else {
                    throw TestHTTPClientError.malformed(text)
                }
                offset = lineEnd + 2
                if size == 0 {
                    // Trailers, then an empty line.
                    while true {
                        guard let end = find(crlfIn: bodyBytes, from: offset) else { return nil }
                        let isEmpty = end == offset
                        offset = end + 2
                        if isEmpty { break }
                    }
                    return response(body, headBytes + offset)
                }
                guard bodyBytes.count >= offset + size + 2 else { return nil }
                body += bodyBytes[offset..<(offset + size)]
                offset += size + 2
            }
        }
        guard isClosed else { return nil }
        defer { bodyBytes.removeAll() }
        return response(bodyBytes, headBytes + bodyBytes.count)
    }

    private static func find(crlfIn bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == 13 && bytes[index + 1] == 10 { return index }
            index += 1
        }
        return nil
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var text = Substring(self)
        while text.first == set { text = text.dropFirst() }
        while text.last == set { text = text.dropLast() }
        return String(text)
    }
}
