/// Stops with `message` when `condition` fails. Unlike `precondition`, the message is printed in
/// release builds too: a shape or index error must name what was wrong.
@inline(__always)
package func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
           file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
