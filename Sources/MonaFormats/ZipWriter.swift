import Foundation

extension ZipMembers {
    /// A zip archive (in memory) holding `members` in order, stored or deflated (zlib), with a fixed timestamp
    /// (1980-01-01 00:00) so the bytes are reproducible. Classic zip only: an archive that would need ZIP64
    /// (a member or offset of 4 GiB or more, 65 535 or more members) is refused with an error naming `file`.
    static func archiveData(_ members: [(path: String, data: Data)], deflated: Bool = false, file: String) throws -> Data {
        func fail(_ m: String) -> FormatError { FormatError(file: file, "cannot build a zip archive: \(m)") }
        guard members.count < 0xFFFF else { throw fail("\(members.count) members need ZIP64, which is not written") }
        let dosTime: UInt16 = 0, dosDate: UInt16 = 1 << 5 | 1   // 1980-01-01 00:00
        var out = Data()
        var central = Data()
        for (path, data) in members {
            let name = Array(path.utf8)
            guard name.count <= 0xFFFF else { throw fail("member name of \(name.count) bytes is too long") }
            let body: Data
            do {
                body = deflated ? Data(try data.withUnsafeBytes { raw throws(Deflate.Failure) in try Deflate.compress(raw) }) : data
            } catch {
                throw fail("member '\(path)': \(error)")
            }
            let offset = out.count
            guard data.count < 0xFFFF_FFFF, body.count < 0xFFFF_FFFF, offset < 0xFFFF_FFFF else {
                throw fail("member '\(path)' or its offset reaches 4 GiB, which needs ZIP64 (not written)")
            }
            let crc = data.withUnsafeBytes { ZipCRC.checksum($0) }
            let method: UInt16 = deflated ? 8 : 0
            // Bit 11: the name is UTF-8.
            let flags: UInt16 = name.allSatisfy { $0 < 0x80 } ? 0 : 1 << 11
            // Fields shared by the local header and the central-directory entry, from "version needed" on.
            var common = Data()
            common.appendLE(UInt16(20))
            common.appendLE(flags)
            common.appendLE(method)
            common.appendLE(dosTime)
            common.appendLE(dosDate)
            common.appendLE(crc)
            common.appendLE(UInt32(body.count))
            common.appendLE(UInt32(data.count))
            common.appendLE(UInt16(name.count))
            common.appendLE(UInt16(0))   // extra field length

            out.appendLE(UInt32(0x0403_4B50))
            out.append(common)
            out.append(contentsOf: name)
            out.append(body)

            central.appendLE(UInt32(0x0201_4B50))
            central.appendLE(UInt16(20))   // version made by
            central.append(common)
            central.appendLE(UInt16(0))    // comment length
            central.appendLE(UInt16(0))    // disk number
            central.appendLE(UInt16(0))    // internal attributes
            central.appendLE(UInt32(0))    // external attributes
            central.appendLE(UInt32(offset))
            central.append(contentsOf: name)
        }
        let directoryOffset = out.count
        guard directoryOffset < 0xFFFF_FFFF, central.count < 0xFFFF_FFFF else {
            throw fail("the archive reaches 4 GiB, which needs ZIP64 (not written)")
        }
        out.append(central)
        out.appendLE(UInt32(0x0605_4B50))
        out.appendLE(UInt16(0))   // this disk
        out.appendLE(UInt16(0))   // disk with the directory
        out.appendLE(UInt16(members.count))
        out.appendLE(UInt16(members.count))
        out.appendLE(UInt32(central.count))
        out.appendLE(UInt32(directoryOffset))
        out.appendLE(UInt16(0))   // comment length
        return out
    }
}

private extension Data {
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }
}
