import Foundation

/// JUnit XML of a run, for CI systems: one `<testsuite>` per test file, one `<testcase>` per test.
extension PluginTestReport {
    public var junitXML: String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites name=\"luxy test\" tests=\"\(results.count)\" failures=\"\(failed)\" time=\"\(Self.seconds(seconds))\">\n"
        var files: [String] = []
        for result in results where !files.contains(result.file) { files.append(result.file) }
        for file in files {
            let cases = results.filter { $0.file == file }
            let failures = cases.filter { !$0.passed }.count
            let time = cases.reduce(0) { $0 + $1.seconds }
            xml += "  <testsuite name=\"\(Self.escape(file))\" tests=\"\(cases.count)\" failures=\"\(failures)\" "
                + "errors=\"0\" time=\"\(Self.seconds(time))\">\n"
            for result in cases {
                xml += "    <testcase classname=\"\(Self.escape(file))\" name=\"\(Self.escape(result.name))\" "
                    + "file=\"\(Self.escape(file))\" line=\"\(result.line)\" time=\"\(Self.seconds(result.seconds))\""
                if result.passed {
                    xml += "/>\n"
                } else {
                    let message = "\(file):\(result.line): \(result.message ?? "failed")"
                    xml += ">\n      <failure message=\"\(Self.escape(message))\">\(Self.escape(message))</failure>\n"
                    xml += "    </testcase>\n"
                }
            }
            xml += "  </testsuite>\n"
        }
        xml += "</testsuites>\n"
        return xml
    }

    private static func seconds(_ value: Double) -> String {
        String(format: "%.3f", value)
    }

    /// XML 1.0 text: the five entities, and control characters (not allowed in XML 1.0) as `?`.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default: if scalar.value < 0x20 { out += "?" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
