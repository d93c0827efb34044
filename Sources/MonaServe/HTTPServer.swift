import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One parsed request: only what the dashboard needs (GET/HEAD, a path, its query and headers; no bodies).
public struct HTTPRequest: Sendable {
    public var method: String
    /// The percent-decoded path segments (`/run/a%2Fb` → ["run", "a/b"]: a decoded slash stays inside its segment).
    public var segments: [String]
    /// Query parameters in order, percent- and `+`-decoded; a name may repeat (`?run=a&run=b`).
    public var query: [(String, String)]
    /// Header fields, names lower-cased, values trimmed, in order.
    public var headers: [(String, String)] = []
    /// Whether the client allows the connection to stay open after the response (HTTP/1.1 without
    /// `Connection: close`).
    public var keepAlive = false

    /// A GET request for an origin-form target (`/api/runs?limit=5`); nil when malformed.
    public init?(target: String) {
        guard let parsed = HTTPServer.parse(target: target) else { return nil }
        self = parsed
    }

    init(method: String, segments: [String], query: [(String, String)]) {
        self.method = method
        self.segments = segments
        self.query = query
    }

    public func parameter(_ name: String) -> String? { query.first { $0.0 == name }?.1 }
    public func parameters(_ name: String) -> [String] { query.filter { $0.0 == name }.map(\.1) }
    public func header(_ name: String) -> String? { headers.first { $0.0 == name }?.1 }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    /// Extra headers (e.g. a stricter Content-Security-Policy for files read from run directories).
    public var headers: [(String, String)] = []
    /// For a stream (`text/event-stream`): called on the connection's own thread after the head is sent, writing
    /// until the client goes, the stream ends or the server stops; the connection is closed afterwards.
    public var stream: (@Sendable (StreamConnection) -> Void)?

    public init(status: Int = 200, contentType: String, body: [UInt8], headers: [(String, String)] = [],
                stream: (@Sendable (StreamConnection) -> Void)? = nil) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
        self.stream = stream
    }

    public static func text(_ status: Int, _ message: String) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array((message + "\n").utf8))
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 413: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }
}

public struct ServeError: Error, CustomStringConvertible {
    public let description: String
    init(_ message: String) { description = message }
}

/// How much one server takes on at once, and how long it waits for slow clients.
public struct HTTPLimits: Sendable {
    /// Connections handled at once (each on its own thread); more get 503 at once.
    public var maxConnections = 64
    /// Of those, event streams; more get 503 (the pages then poll).
    public var maxStreams = 16
    /// Seconds to receive one request head, from its first byte (or from the connection opening).
    public var requestTimeout: Int32 = 10
    /// Seconds a kept-alive connection waits for its next request.
    public var idleTimeout: Int32 = 5
    /// Seconds one send may block: a client that stops reading is dropped after this.
    public var sendTimeout: Int32 = 10
    public var maxRequestsPerConnection = 100

    public init() {}
}

/// A small HTTP/1.1 server on POSIX sockets: GET and HEAD only, no request bodies, bounded request heads.
///
/// Each connection has its own thread, so a slow client or a long event stream never holds up another
/// request; the number of connections and of streams is capped (503 beyond), every wait has a timeout, and a
/// connection's socket is closed and its slot freed when its thread ends. Connections are kept alive between
/// requests (HTTP/1.1) for at most `idleTimeout` seconds and `maxRequestsPerConnection` requests, and not at all
/// once half the connection slots are taken. No server framework has to be compiled into `mona`.
public final class HTTPServer: @unchecked Sendable {
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    /// The largest request head read (request line and headers); longer ones get 413.
    static let maxHeadBytes = 16 * 1024

    public let host: String
    public let limits: HTTPLimits
    /// The bound port (the kernel's choice when 0 was asked for).
    public private(set) var port: UInt16 = 0
    private let handler: Handler
    private var listener: Int32 = -1
    private let stateLock = NSLock()
    private var stopped = false
    private var connections = 0
    private var streams = 0

    public init(host: String, port: UInt16, limits: HTTPLimits = HTTPLimits(), handler: @escaping Handler) throws {
        self.host = host
        self.limits = limits
        self.handler = handler
        try bind(port: port)
    }

    deinit { stop() }

    /// Connections and event streams open now (a connection's count drops once its socket is closed and its
    /// thread is about to end).
    public var activity: (connections: Int, streams: Int) {
        stateLock.lock()
        defer { stateLock.unlock() }
        return (connections, streams)
    }

    /// Whether `host` names a loopback address (127.0.0.0/8, ::1, localhost).
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { p in UInt8(p) != nil }
    }

    private func bind(port: UInt16) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_flags = AI_PASSIVE
        var list: UnsafeMutablePointer<addrinfo>?
        let name = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let code = getaddrinfo(name, String(port), &hints, &list)
        guard code == 0, let first = list else {
            throw ServeError("--host \(host): cannot resolve the address (\(String(cString: gai_strerror(code))))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { lastError = String(cString: strerror(errno)); continue }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            guard bindSocket(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, listen(fd, 64) == 0 else {
                lastError = String(cString: strerror(errno))
                close(fd)
                continue
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
            }
            if address.ss_family == sa_family_t(AF_INET) {
                self.port = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
                }
            } else {
                self.port = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
                }
            }
            listener = fd
            return
        }
        throw ServeError("--host \(host) --port \(port): cannot listen (\(lastError))")
    }

    /// Accepts connections on a background thread until `stop()`.
    public func start() {
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "mona-serve-accept"
        thread.start()
    }

    /// Closes the listening socket; requests in flight finish.
    public func stop() {
        stateLock.lock()
        defer { stateLock.unlock() }
        guard !stopped else { return }
        stopped = true
        if listener >= 0 {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
    }

    var isStopped: Bool {
        stateLock.lock()
        defer { stateLock.unlock() }
        return stopped
    }

    private func acceptLoop() {
        while !isStopped {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if isStopped { return }
                usleep(10_000)  // EMFILE and the like: back off instead of spinning
                continue
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            var timeout = timeval(tv_sec: Int(limits.sendTimeout), tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            #if canImport(Darwin)
            var one: Int32 = 1
            setsockopt(client, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
            #endif
            stateLock.lock()
            let admitted = connections < limits.maxConnections
            if admitted { connections += 1 }
            stateLock.unlock()
            guard admitted else {
                // A fresh socket's send buffer takes this small answer without blocking the accept loop.
                HTTPServer.write(.text(503, "too many connections; try again"), to: client, keepAlive: false, omitBody: false)
                close(client)
                continue
            }
            let thread = Thread { [self] in
                serve(client)
                stateLock.lock()
                connections -= 1
                stateLock.unlock()
            }
            thread.name = "mona-serve-conn"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Answers the requests of one connection until it closes, times out, asks to close or streams.
    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var reader = HeadReader(fd: fd, limits: limits)
        var served = 0
        while true {
            let request: HTTPRequest
            switch reader.next(first: served == 0) {
            case .closed:
                return
            case .failure(let status, let message):
                HTTPServer.write(.text(status, message), to: fd, keepAlive: false, omitBody: false)
                return
            case .success(let head):
                switch HTTPServer.parse(head: head) {
                case .failure(let status, let message):
                    HTTPServer.write(.text(status, message), to: fd, keepAlive: false, omitBody: false)
                    return
                case .success(let parsed):
                    request = parsed
                }
            }
            served += 1
            let response = handler(request)
            if let stream = response.stream, request.method == "GET" {
                serveStream(stream, response: response, fd: fd)
                return
            }
            let keepAlive = request.keepAlive && response.stream == nil && served < limits.maxRequestsPerConnection
                && !isStopped && activity.connections <= limits.maxConnections / 2
            guard HTTPServer.write(response, to: fd, keepAlive: keepAlive, omitBody: request.method == "HEAD"), keepAlive else {
                return
            }
        }
    }

    private func serveStream(_ stream: @Sendable (StreamConnection) -> Void, response: HTTPResponse, fd: Int32) {
        stateLock.lock()
        let admitted = streams < limits.maxStreams
        if admitted { streams += 1 }
        stateLock.unlock()
        guard admitted else {
            let busy = HTTPResponse(status: 503, contentType: "application/json; charset=utf-8",
                                    body: Array("{\"error\": \"more than \(limits.maxStreams) live streams open; poll instead\"}\n".utf8),
                                    headers: [("Retry-After", "5")])
            HTTPServer.write(busy, to: fd, keepAlive: false, omitBody: false)
            return
        }
        defer {
            stateLock.lock()
            streams -= 1
            stateLock.unlock()
        }
        var head = HTTPServer.head(response, keepAlive: false, length: nil)
        head += "\r\n"
        let connection = StreamConnection(fd: fd, server: self)
        guard connection.write(Array(head.utf8)) else { return }
        stream(connection)
    }

    enum Outcome<T> {
        case success(T)
        case failure(Int, String)
    }

    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }

    /// Parses `METHOD target HTTP/1.x` and the headers (only to refuse request bodies).
    static func parse(head: [UInt8]) -> Outcome<HTTPRequest> {
        guard let text = String(validating: head, as: UTF8.self) else { return .failure(400, "request head is not UTF-8") }
        let lines = text.components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2] == "HTTP/1.1" || parts[2] == "HTTP/1.0" else {
            return .failure(400, "malformed request line")
        }
        let method = String(parts[0])
        guard method == "GET" || method == "HEAD" else { return .failure(405, "only GET and HEAD are served") }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { return .failure(400, "malformed header line") }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "transfer-encoding" || (name == "content-length" && value != "0") {
                return .failure(400, "request bodies are not accepted")
            }
            headers.append((name, value))
        }
        guard var request = parse(target: String(parts[1]), method: method) else {
            return .failure(400, "malformed request target")
        }
        request.headers = headers
        let connection = headers.filter { $0.0 == "connection" }
            .flatMap { $0.1.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        request.keepAlive = parts[2] == "HTTP/1.1" && !connection.contains("close")
        return .success(request)
    }

    /// Splits an origin-form target (`/a/b?x=1`) into decoded segments and query; nil when malformed.
    static func parse(target: String, method: String = "GET") -> HTTPRequest? {
        guard target.hasPrefix("/") else { return nil }
        let pieces = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var segments: [String] = []
        for raw in pieces[0].split(separator: "/", omittingEmptySubsequences: true) {
            guard let decoded = percentDecode(raw, plusIsSpace: false) else { return nil }
            segments.append(decoded)
        }
        var query: [(String, String)] = []
        if pieces.count == 2 {
            for pair in pieces[1].split(separator: "&", omittingEmptySubsequences: true) {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let key = percentDecode(kv[0], plusIsSpace: true),
                      let value = kv.count == 2 ? percentDecode(kv[1], plusIsSpace: true) : ""
                else { return nil }
                query.append((key, value))
            }
        }
        return HTTPRequest(method: method, segments: segments, query: query)
    }

    /// Decodes `%XX` escapes; nil for a bad escape, invalid UTF-8 or a NUL byte.
    static func percentDecode(_ s: Substring, plusIsSpace: Bool) -> String? {
        var out: [UInt8] = []
        var bytes = Array(s.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "%") {
                guard bytes.count >= 2, let hi = hexValue(bytes.removeFirst()), let lo = hexValue(bytes.removeFirst()) else {
                    return nil
                }
                out.append(hi << 4 | lo)
            } else if plusIsSpace && b == UInt8(ascii: "+") {
                out.append(0x20)
            } else {
                out.append(b)
            }
        }
        guard !out.contains(0) else { return nil }
        return String(validating: out, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 48...57: return b - 48
        case 65...70: return b - 55
        case 97...102: return b - 87
        default: return nil
        }
    }

    static func head(_ response: HTTPResponse, keepAlive: Bool, length: Int?) -> String {
        var head = "HTTP/1.1 \(response.status) \(HTTPResponse.reason(response.status))\r\n"
        head += "Content-Type: \(response.contentType)\r\n"
        if let length { head += "Content-Length: \(length)\r\n" }
        head += keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n"
        head += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        return head
    }

    /// Writes a whole response; false when the client is gone or stopped reading for `sendTimeout` seconds.
    @discardableResult
    static func write(_ response: HTTPResponse, to fd: Int32, keepAlive: Bool, omitBody: Bool) -> Bool {
        var bytes = Array((head(response, keepAlive: keepAlive, length: response.body.count) + "\r\n").utf8)
        if !omitBody { bytes += response.body }
        return send(bytes, to: fd)
    }

    static func send(_ bytes: [UInt8], to fd: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { socketSend(fd, $0.baseAddress, $0.count, sendFlags) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
}

/// Reads request heads from one connection, keeping bytes that arrived after a head (a pipelined request).
struct HeadReader {
    let fd: Int32
    let limits: HTTPLimits
    private var buffer: [UInt8] = []

    init(fd: Int32, limits: HTTPLimits) {
        self.fd = fd
        self.limits = limits
    }

    enum Result {
        case success([UInt8])
        case failure(Int, String)
        /// The client closed the connection, or sent nothing before the timeout: nothing to answer.
        case closed
    }

    /// The next head: up to `requestTimeout` seconds for the first request of a connection, `idleTimeout`
    /// for a later one to start, then `requestTimeout` from its first byte.
    mutating func next(first: Bool) -> Result {
        var deadline = monotonicMilliseconds() + Int64(first ? limits.requestTimeout : limits.idleTimeout) * 1000
        var started = !buffer.isEmpty || first
        if !buffer.isEmpty { deadline = monotonicMilliseconds() + Int64(limits.requestTimeout) * 1000 }
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let end = HTTPServer.headEnd(buffer) {
                let head = Array(buffer[0..<end])
                buffer.removeFirst(end + 4)
                return .success(head)
            }
            if buffer.count > HTTPServer.maxHeadBytes {
                return .failure(413, "request head longer than \(HTTPServer.maxHeadBytes) bytes")
            }
            let remaining = deadline - monotonicMilliseconds()
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = remaining > 0 ? poll(&poller, 1, Int32(min(remaining, 60_000))) : 0
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 {
                if remaining > 0 && ready == 0 { continue }
                return buffer.isEmpty ? .closed : .failure(408, "request head not received in time")
            }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return buffer.isEmpty ? .closed : .failure(400, "incomplete request") }
            if !started {
                // A kept-alive connection's next request: its head gets the full request timeout.
                started = true
                deadline = monotonicMilliseconds() + Int64(limits.requestTimeout) * 1000
            }
            buffer += chunk[0..<n]
        }
    }
}

/// The connection an event stream writes to.
public final class StreamConnection: @unchecked Sendable {
    let fd: Int32
    private weak var server: HTTPServer?

    init(fd: Int32, server: HTTPServer) {
        self.fd = fd
        self.server = server
    }

    /// Sends `bytes`; false once the client is gone or has not read for the server's send timeout.
    public func write(_ bytes: [UInt8]) -> Bool { HTTPServer.send(bytes, to: fd) }

    public func write(_ text: String) -> Bool { write(Array(text.utf8)) }

    /// Waits up to `milliseconds`; true as soon as the client hangs up (or the server stops). Whatever the
    /// client sends meanwhile is read and ignored (an event-stream client sends nothing).
    public func closed(waiting milliseconds: Int) -> Bool {
        let deadline = monotonicMilliseconds() + Int64(milliseconds)
        var scratch = [UInt8](repeating: 0, count: 1024)
        while true {
            if server?.isStopped ?? true { return true }
            let remaining = deadline - monotonicMilliseconds()
            if remaining <= 0 { return false }
            // Wake at least every 250 ms to see a server stop.
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(remaining, 250)))
            if ready < 0 && errno != EINTR { return true }
            if ready > 0 {
                if poller.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { return true }
                let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { return true }
            }
        }
    }
}

func monotonicMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}

// The C `bind`, which `HTTPServer.bind(port:)` hides inside the class.
#if canImport(Glibc)
private let sendFlags = Int32(MSG_NOSIGNAL)
private func socketSend(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int { Glibc.send(fd, buffer, count, flags) }
private func bindSocket(_ fd: Int32, _ addr: UnsafeMutablePointer<sockaddr>!, _ len: socklen_t) -> Int32 { Glibc.bind(fd, addr, len) }
#else
private let sendFlags: Int32 = 0  // Darwin: SO_NOSIGPIPE is set on each client socket instead
private func socketSend(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int { Darwin.send(fd, buffer, count, flags) }
private func bindSocket(_ fd: Int32, _ addr: UnsafeMutablePointer<sockaddr>!, _ len: socklen_t) -> Int32 { Darwin.bind(fd, addr, len) }
#endif
