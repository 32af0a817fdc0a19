/// The TeX subset the tutorials' prose writes between `$…$` (inline) and `$$…$$` (display),
/// turned into MathML, which browsers render natively (no script, no network: the pages stay
/// self-contained). Jupyter renders the same `$…$` with its own MathJax, so notebooks keep the
/// TeX as written.
///
/// Covered: letters and digits, operators, `^` and `_` (with `{…}` groups), `\frac`, `\sqrt`,
/// `\hat`, `\bar`, `\tilde`, `\mathrm`, `\text`, `\operatorname`, `\mathbf`, `\left`/`\right`,
/// Greek letters, `\ln`-style function names, `\sum`/`\prod` with limits, and the usual symbols
/// (`\partial`, `\cdot`, `\le`, `\approx`, `\langle`, …). Anything else becomes a visible
/// `<merror>` naming the command, never silently dropped text; the page's self-check fails on it.
public enum TeXMath {
    /// MathML for `tex`; `display` sets block layout.
    public static func mathML(_ tex: String, display: Bool = false) -> String {
        var parser = Parser(Array(tex))
        let nodes = parser.sequence(until: nil)
        let body = nodes.map(\.mathML).joined()
        return "<math\(display ? " display=\"block\" displaystyle=\"true\"" : "")><mrow>\(body)</mrow></math>"
    }

    /// The commands outside the subset that `tex` uses (empty when it renders fully).
    public static func unsupportedCommands(in tex: String) -> [String] {
        var parser = Parser(Array(tex))
        _ = parser.sequence(until: nil)
        return parser.unsupported
    }

    indirect enum Node {
        case identifier(String, upright: Bool)
        case number(String)
        case op(String, largeLimits: Bool = false)
        case text(String)
        case row([Node])
        case fraction(Node, Node)
        case root(Node)
        case accent(Node, String)
        case scripts(Node, sub: Node?, sup: Node?)
        case space(String)
        case error(String)

        var mathML: String {
            switch self {
            case let .identifier(s, upright):
                return upright && s.count == 1 ? "<mi mathvariant=\"normal\">\(Markdown.escape(s))</mi>" : "<mi>\(Markdown.escape(s))</mi>"
            case let .number(s): return "<mn>\(Markdown.escape(s))</mn>"
            case let .op(s, large): return large ? "<mo largeop=\"true\" movablelimits=\"true\">\(Markdown.escape(s))</mo>" : "<mo>\(Markdown.escape(s))</mo>"
            case let .text(s): return "<mtext>\(Markdown.escape(s))</mtext>"
            case let .row(nodes): return "<mrow>" + nodes.map(\.mathML).joined() + "</mrow>"
            case let .fraction(a, b): return "<mfrac>\(a.mathML)\(b.mathML)</mfrac>"
            case let .root(a): return "<msqrt>\(a.mathML)</msqrt>"
            case let .accent(a, mark): return "<mover accent=\"true\">\(a.mathML)<mo>\(mark)</mo></mover>"
            case let .scripts(base, sub, sup):
                let isLarge: Bool
                if case .op(_, true) = base { isLarge = true } else { isLarge = false }
                switch (sub, sup) {
                case let (b?, p?): return isLarge ? "<munderover>\(base.mathML)\(b.mathML)\(p.mathML)</munderover>" : "<msubsup>\(base.mathML)\(b.mathML)\(p.mathML)</msubsup>"
                case let (b?, nil): return isLarge ? "<munder>\(base.mathML)\(b.mathML)</munder>" : "<msub>\(base.mathML)\(b.mathML)</msub>"
                case let (nil, p?): return isLarge ? "<mover>\(base.mathML)\(p.mathML)</mover>" : "<msup>\(base.mathML)\(p.mathML)</msup>"
                case (nil, nil): return base.mathML
                }
            case let .space(width): return "<mspace width=\"\(width)\"/>"
            case let .error(s): return "<merror><mtext>\(Markdown.escape(s))</mtext></merror>"
            }
        }
    }

    static let greek: [String: String] = [
        "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε", "zeta": "ζ", "eta": "η",
        "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π",
        "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "ϕ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
        "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    ]
    static let symbols: [String: String] = [
        "partial": "∂", "nabla": "∇", "cdot": "·", "times": "×", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠",
        "approx": "≈", "sim": "∼", "simeq": "≃", "propto": "∝", "equiv": "≡", "to": "→", "rightarrow": "→", "mapsto": "↦",
        "leftarrow": "←", "Rightarrow": "⇒", "in": "∈", "pm": "±", "mp": "∓", "infty": "∞", "ldots": "…", "cdots": "⋯",
        "langle": "⟨", "rangle": "⟩", "lVert": "‖", "rVert": "‖", "|": "‖", "{": "{", "}": "}", "ll": "≪", "gg": "≫",
        "top": "⊤", "circ": "∘", "star": "⋆", "ast": "∗", "mid": "∣", "forall": "∀", "exists": "∃", "setminus": "∖",
    ]
    static let largeOperators: [String: String] = ["sum": "∑", "prod": "∏", "int": "∫"]
    static let functions: Set<String> = ["ln", "log", "exp", "sin", "cos", "tanh", "cosh", "sinh", "min", "max", "det", "tr",
                                         "arg", "argmin", "argmax", "sup", "inf", "lim", "Var", "Cov"]
    static let spaces: [String: String] = [",": "0.167em", ":": "0.222em", ";": "0.278em", "quad": "1em", "qquad": "2em", " ": "0.25em", "!": "0em"]
    static let accents: [String: String] = ["hat": "^", "bar": "¯", "tilde": "~", "vec": "→", "dot": "˙"]

    struct Parser {
        let chars: [Character]
        var i = 0
        var unsupported: [String] = []
        init(_ chars: [Character]) { self.chars = chars }

        /// Atoms until `close` (consumed) or the end, with scripts attached to the atom before them.
        mutating func sequence(until close: Character?) -> [Node] {
            var nodes: [Node] = []
            while i < chars.count {
                let c = chars[i]
                if let close, c == close { i += 1; return nodes }
                if c == "^" || c == "_" {
                    i += 1
                    let arg = argument()
                    let base = nodes.popLast() ?? .row([])
                    if case let .scripts(b, sub, sup) = base {
                        nodes.append(c == "^" && sup == nil ? .scripts(b, sub: sub, sup: arg)
                                     : c == "_" && sub == nil ? .scripts(b, sub: arg, sup: sup)
                                     : .scripts(base, sub: c == "_" ? arg : nil, sup: c == "^" ? arg : nil))
                    } else {
                        nodes.append(.scripts(base, sub: c == "_" ? arg : nil, sup: c == "^" ? arg : nil))
                    }
                    continue
                }
                if let atom = atom() { nodes.append(atom) }
            }
            return nodes
        }

        /// The argument of a script or a command: a `{…}` group or one atom.
        mutating func argument() -> Node {
            skipSpaces()
            guard i < chars.count else { return .row([]) }
            if chars[i] == "{" {
                i += 1
                let group = sequence(until: "}")
                return group.count == 1 ? group[0] : .row(group)
            }
            return atom() ?? .row([])
        }

        mutating func skipSpaces() { while i < chars.count, chars[i] == " " { i += 1 } }

        /// Raw text of a `{…}` group (for \text and friends).
        mutating func rawGroup() -> String {
            skipSpaces()
            guard i < chars.count, chars[i] == "{" else { return "" }
            i += 1
            var depth = 1, out = ""
            while i < chars.count {
                let c = chars[i]; i += 1
                if c == "{" { depth += 1 } else if c == "}" { depth -= 1; if depth == 0 { break } }
                out.append(c)
            }
            return out
        }

        mutating func atom() -> Node? {
            let c = chars[i]
            if c == " " { i += 1; return nil }
            if c == "{" { i += 1; return .row(sequence(until: "}")) }
            if c == "\\" { return command() }
            if c.isNumber {
                var s = ""
                while i < chars.count, chars[i].isNumber || (chars[i] == "." && i + 1 < chars.count && chars[i + 1].isNumber) { s.append(chars[i]); i += 1 }
                return .number(s)
            }
            i += 1
            if c.isLetter { return .identifier(String(c), upright: false) }
            if c == "'" { return .op("′") }
            if c == "-" { return .op("−") }
            return .op(String(c))
        }

        mutating func command() -> Node {
            i += 1   // the backslash
            guard i < chars.count else { return .error("\\") }
            var name = ""
            if chars[i].isLetter {
                while i < chars.count, chars[i].isLetter { name.append(chars[i]); i += 1 }
            } else {
                name = String(chars[i]); i += 1
            }
            if let g = TeXMath.greek[name] { return .identifier(g, upright: name.first!.isUppercase) }
            if let s = TeXMath.symbols[name] { return .op(s) }
            if let s = TeXMath.largeOperators[name] { return .op(s, largeLimits: true) }
            if TeXMath.functions.contains(name) { return .identifier(name, upright: true) }
            if let w = TeXMath.spaces[name] { return .space(w) }
            if let mark = TeXMath.accents[name] { return .accent(argument(), mark) }
            switch name {
            case "frac": let a = argument(); return .fraction(a, argument())
            case "sqrt": return .root(argument())
            case "mathrm", "operatorname": return .identifier(rawGroup(), upright: true)
            case "text", "textrm": return .text(rawGroup())
            case "mathbf", "boldsymbol", "mathit": return argument()
            case "left", "right", "big", "Big", "bigl", "bigr", "Bigl", "Bigr":
                skipSpaces()
                guard i < chars.count else { return .row([]) }
                if chars[i] == "\\" { return command() }
                let d = chars[i]; i += 1
                return d == "." ? .row([]) : .op(String(d))
            default:
                unsupported.append("\\" + name)
                return .error("\\" + name)
            }
        }
    }
}
