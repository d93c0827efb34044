import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One parsed request: only what the dashboard needs (GET/HEAD, a path and its query; no bodies).
public struct HTTPRequest: Sendable {
    public var method: String
    /// The percent-decoded path segments (`/run/a%2Fb` → ["run", "a/b"]: a decoded slash stays inside its segment).
    public var segments: [String]
    /// Query parameters in order, percent- and `+`-decoded; a name may repeat (`?run=a&run=b`).
    public var query: [(String, String)]

    public func parameter(_ name: String) -> String? { query.first { $0.0 == name }?.1 }
    public func parameters(_ name: String) -> [String] { query.filter { $0.0 == name }.map(\.1) }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    /// Extra headers (e.g. a stricter Content-Security-Policy for files read from run directories).
    public var headers: [(String, String)] = []

    public init(status: Int = 200, contentType: String, body: [UInt8], headers: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
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
        case 413: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        default: return "Status"
        }
    }
}

public struct ServeError: Error, CustomStringConvertible {
    public let description: String
    init(_ message: String) { description = message }
}

/// A small HTTP/1.1 server on POSIX sockets: one request per connection (`Connection: close`), GET and HEAD only,
/// bounded request heads, socket timeouts and a cap on connections handled at once. The dashboard polls small
/// JSON documents, so keep-alive, bodies and chunked encoding are not needed, and no server framework has to be
/// compiled into `mona`.
public final class HTTPServer: @unchecked Sendable {
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    /// The largest request head read (request line and headers); longer ones get 413.
    static let maxHeadBytes = 16 * 1024
    static let maxConnections = 32

    public let host: String
    /// The bound port (the kernel's choice when 0 was asked for).
    public private(set) var port: UInt16 = 0
    private let handler: Handler
    private var listener: Int32 = -1
    private let slots = DispatchSemaphore(value: HTTPServer.maxConnections)
    private let stateLock = NSLock()
    private var stopped = false

    public init(host: String, port: UInt16, handler: @escaping Handler) throws {
        self.host = host
        self.handler = handler
        try bind(port: port)
    }

    deinit { stop() }

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

    private var isStopped: Bool {
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
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            #if canImport(Darwin)
            var one: Int32 = 1
            setsockopt(client, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
            #endif
            slots.wait()
            DispatchQueue.global().async { [self] in
                defer { slots.signal() }
                serve(client)
            }
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        let response: HTTPResponse
        var head = false
        switch HTTPServer.readHead(fd) {
        case .failure(let status, let message):
            response = .text(status, message)
        case .success(let bytes):
            switch HTTPServer.parse(head: bytes) {
            case .failure(let status, let message):
                response = .text(status, message)
            case .success(let request):
                head = request.method == "HEAD"
                response = handler(request)
            }
        }
        write(response, to: fd, omitBody: head)
    }

    enum Outcome<T> {
        case success(T)
        case failure(Int, String)
    }

    /// Reads up to the blank line ending the request head.
    static func readHead(_ fd: Int32) -> Outcome<[UInt8]> {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return .failure(400, "incomplete request") }
            bytes.append(contentsOf: chunk[0..<n])
            if let end = headEnd(bytes) { return .success(Array(bytes[0..<end])) }
            if bytes.count > maxHeadBytes { return .failure(413, "request head longer than \(maxHeadBytes) bytes") }
        }
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
        for line in lines.dropFirst() {
            let lower = line.lowercased()
            if lower.hasPrefix("transfer-encoding:") || (lower.hasPrefix("content-length:")
                && lower.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces) != "0") {
                return .failure(400, "request bodies are not accepted")
            }
        }
        guard let request = parse(target: String(parts[1]), method: method) else {
            return .failure(400, "malformed request target")
        }
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

    private func write(_ response: HTTPResponse, to fd: Int32, omitBody: Bool) {
        var head = "HTTP/1.1 \(response.status) \(HTTPResponse.reason(response.status))\r\n"
        head += "Content-Type: \(response.contentType)\r\nContent-Length: \(response.body.count)\r\n"
        head += "Connection: close\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
        head += "Referrer-Policy: no-referrer\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if !omitBody { bytes += response.body }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, sendFlags) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}

// The C `bind`, which `HTTPServer.bind(port:)` hides inside the class.
#if canImport(Glibc)
private let sendFlags = Int32(MSG_NOSIGNAL)
private func bindSocket(_ fd: Int32, _ addr: UnsafeMutablePointer<sockaddr>!, _ len: socklen_t) -> Int32 { Glibc.bind(fd, addr, len) }
#else
private let sendFlags: Int32 = 0  // Darwin: SO_NOSIGPIPE is set on each client socket instead
private func bindSocket(_ fd: Int32, _ addr: UnsafeMutablePointer<sockaddr>!, _ len: socklen_t) -> Int32 { Darwin.bind(fd, addr, len) }
#endif
