import Foundation
import MonaJSON
@testable import MonaServe
#if canImport(Glibc)
import Glibc
#endif

final class TemporaryDirectory {
    let url: URL
    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("mona-serve-\(UUID().uuidString)", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A dashboard over `roots`, listening on a free loopback port.
final class TestServer {
    let server: HTTPServer
    let dashboard: Dashboard
    init(_ roots: [URL]) throws {
        dashboard = Dashboard(catalog: try RunCatalog(roots: roots))
        let d = dashboard
        server = try HTTPServer(host: "127.0.0.1", port: 0) { d.handle($0) }
        server.start()
    }
    deinit { server.stop() }

    /// Sends `target` exactly as given (no client-side normalisation of `..`) and returns status and body.
    func get(_ target: String, method: String = "GET") throws -> (status: Int, body: String) {
        try rawRequest("\(method) \(target) HTTP/1.1\r\nHost: localhost\r\n\r\n", port: server.port)
    }

    func json(_ target: String) throws -> (status: Int, value: JSONValue) {
        let r = try get(target)
        return (r.status, try JSONValue.parse(json: Array(r.body.utf8)))
    }
}

struct ClientError: Error, CustomStringConvertible { let description: String }

/// One request over a fresh TCP connection; reads until the server closes it.
func rawRequest(_ text: String, port: UInt16) throws -> (status: Int, body: String) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ClientError(description: "socket") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw ClientError(description: "connect: \(String(cString: strerror(errno)))") }
    var timeout = timeval(tv_sec: 120, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        response += chunk[0..<n]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else { throw ClientError(description: "no response head: \(text.prefix(200))") }
    let statusLine = text[..<split.lowerBound].split(separator: "\r\n").first ?? ""
    let parts = statusLine.split(separator: " ")
    guard parts.count >= 2, let status = Int(parts[1]) else { throw ClientError(description: "bad status line \(statusLine)") }
    return (status, String(text[split.upperBound...]))
}

/// Writes a fake run directory with the given metrics lines (each written as given, newline added).
@discardableResult
func makeRun(_ dir: URL, lines: [String], config: String? = "task: waves\nbody: tiny-bert\nmethod:\n  name: finetune\nseed: 3\n",
             terminated: Bool = true) throws -> URL {
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("plots"), withIntermediateDirectories: true)
    try Data("mona run directory\n".utf8).write(to: dir.appendingPathComponent(".mona-run"))
    if let config { try Data(config.utf8).write(to: dir.appendingPathComponent("config.yaml")) }
    var text = lines.joined(separator: "\n")
    if terminated && !lines.isEmpty { text += "\n" }
    try Data(text.utf8).write(to: dir.appendingPathComponent("metrics.jsonl"))
    return dir
}

func trainLine(step: Int, loss: Double) -> String {
    "{\"stage\": \"finetune\", \"epoch\": 1, \"step\": \(step), \"split\": \"train\", \"loss\": \(loss), \"lr\": 0.001}"
}

extension JSONValue {
    /// The series of a curves response named `name` (e.g. "finetune train loss").
    func series(_ name: String) -> JSONValue? {
        self["series"]?.arrayValue?.first { $0["name"]?.stringValue == name }
    }
}

/// The built `mona` executable next to the test bundle, or nil.
func monaExecutable() -> URL? {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("mona")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return nil
}

/// A small two-class series task as CSV (16 readings and a label per row), so `mona fit` needs no downloads.
func writeSeriesTask(_ url: URL, rows: Int = 96) throws {
    var text = (0..<16).map { "t\($0)" }.joined(separator: ",") + ",label\n"
    for i in 0..<rows {
        let label = i % 2
        let values = (0..<16).map { t -> String in
            let phase = Double(t) / 16 * 2 * Double.pi
            let v = label == 0 ? sin(phase) : cos(phase)
            return String(format: "%.4f", v + 0.3 * sin(Double(i * 7 + t * 3)))
        }
        text += values.joined(separator: ",") + ",\(label == 0 ? "a" : "b")\n"
    }
    try Data(text.utf8).write(to: url)
}
