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
    init(_ roots: [URL], limits: HTTPLimits = HTTPLimits()) throws {
        dashboard = Dashboard(catalog: try RunCatalog(roots: roots))
        let d = dashboard
        server = try HTTPServer(host: "127.0.0.1", port: 0, limits: limits) { d.handle($0) }
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

/// One request over a fresh TCP connection; returns the first response (read by its Content-Length, or to the
/// connection's end without one).
func rawRequest(_ text: String, port: UInt16) throws -> (status: Int, body: String) {
    let client = try TestClient(port: port)
    try client.send(text)
    let r = try client.response(head: text.hasPrefix("HEAD "))
    return (r.status, r.body)
}

/// A test's end of one TCP connection to the server.
final class TestClient {
    let fd: Int32
    private var buffer: [UInt8] = []
    private(set) var closedByServer = false

    /// `receiveBuffer`: a small one makes the server's sends block once the client stops reading.
    init(port: UInt16, receiveBuffer: Int32? = nil, timeout: Int = 120) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError(description: "socket") }
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw ClientError(description: "connect: \(String(cString: strerror(errno)))")
        }
        var t = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }  // the server may refuse early (a huge head) and close: its answer is still read
            offset += n
        }
    }

    /// Reads more bytes into the buffer; false at the end of the connection (or on a timeout).
    func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { closedByServer = true; return false }
        buffer += chunk[0..<n]
        return true
    }

    /// The next response head: status and header fields (names lower-cased).
    func responseHead() throws -> (status: Int, headers: [String: String]) {
        while true {
            if let end = HTTPServer.headEnd(buffer) {
                let text = String(decoding: buffer[0..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                let lines = text.components(separatedBy: "\r\n")
                let parts = lines[0].split(separator: " ")
                guard parts.count >= 2, let status = Int(parts[1]) else { throw ClientError(description: "bad status line \(lines[0])") }
                var headers: [String: String] = [:]
                for line in lines.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                return (status, headers)
            }
            guard fill() else { throw ClientError(description: "no response head: \(String(decoding: buffer.prefix(200), as: UTF8.self))") }
        }
    }

    /// The next whole response.
    func response(head: Bool = false) throws -> (status: Int, headers: [String: String], body: String) {
        let (status, headers) = try responseHead()
        if head { return (status, headers, "") }
        if let length = headers["content-length"].flatMap(Int.init) {
            while buffer.count < length { guard fill() else { break } }
            let body = Array(buffer.prefix(length))
            buffer.removeFirst(body.count)
            return (status, headers, String(decoding: body, as: UTF8.self))
        }
        while fill() {}
        defer { buffer.removeAll() }
        return (status, headers, String(decoding: buffer, as: UTF8.self))
    }

    /// The next server-sent event (`event`, `id`, `data` fields; comments skipped); nil at the end of the stream.
    func nextEvent() -> (event: String, id: String?, data: String)? {
        while true {
            if let end = eventEnd() {
                let text = String(decoding: buffer[0..<end], as: UTF8.self)
                buffer.removeFirst(end + 2)
                var event = "message", id: String?, data: [String] = []
                for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix(":") { continue }
                    let field = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                    let value = field.count == 2 ? String(field[1].drop { $0 == " " }) : ""
                    switch field[0] {
                    case "event": event = value
                    case "id": id = value
                    case "data": data.append(value)
                    default: break
                    }
                }
                if data.isEmpty && id == nil && event == "message" { continue }  // retry: or a comment
                return (event, id, data.joined(separator: "\n"))
            }
            guard fill() else { return nil }
        }
    }

    private func eventEnd() -> Int? {
        guard buffer.count >= 2 else { return nil }
        for i in 0..<(buffer.count - 1) where buffer[i] == 10 && buffer[i + 1] == 10 { return i }
        return nil
    }
}

/// Opens `target` as an event stream (with `Last-Event-ID` when given) and reads the response head.
func openStream(_ target: String, port: UInt16, lastEventID: String? = nil, receiveBuffer: Int32? = nil) throws
    -> (client: TestClient, status: Int, headers: [String: String]) {
    let client = try TestClient(port: port, receiveBuffer: receiveBuffer, timeout: 30)
    try client.send("GET \(target) HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n"
                    + (lastEventID.map { "Last-Event-ID: \($0)\r\n" } ?? "") + "\r\n")
    let (status, headers) = try client.responseHead()
    return (client, status, headers)
}

/// Waits up to `seconds` for `condition`, checking every 50 ms.
func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}

/// Server sockets on `port` still open (ESTABLISHED or CLOSE_WAIT), from the kernel's table: a socket the server
/// forgot to close stays in CLOSE_WAIT once its client has gone.
func openServerSockets(port: UInt16) -> Int {
    var count = 0
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 3, let colon = fields[1].lastIndex(of: ":"),
                  UInt16(fields[1][fields[1].index(after: colon)...], radix: 16) == port else { continue }
            if fields[3] == "01" || fields[3] == "08" { count += 1 }
        }
    }
    return count
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
