import FoDCore

extension QRCode {
    /// The symbol as a standalone SVG image with a four-module quiet zone: one path of dark
    /// squares on a white ground, sharp at any scale.
    /// - Parameter label: the accessible name (`aria-label`); escaped for XML.
    public func svg(label: String) -> String {
        let side = size + 8
        var path = ""
        path.reserveCapacity(size * size * 4)
        for y in 0..<size {
            var x = 0
            while x < size {
                guard self[x, y] else { x += 1; continue }
                var run = 1
                while x + run < size && self[x + run, y] { run += 1 }
                path += "M\(x + 4) \(y + 4)h\(run)v1h-\(run)z"
                x += run
            }
        }
        let escaped = label.markupEscaped
        return """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(side) \(side)" role="img" aria-label="\(escaped)" \
        shape-rendering="crispEdges"><rect width="\(side)" height="\(side)" fill="#fff"/><path fill="#000" d="\(path)"/></svg>
        """
    }
}
