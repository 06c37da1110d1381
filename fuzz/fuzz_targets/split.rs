//! Shared by the targets: the first bytes of an input choose how the rest is cut into pieces, so that one
//! input exercises both "all at once" and an arbitrary split of the same bytes.

/// `(pieces, payload)`: the payload cut at lengths taken in turn from the (up to) four control bytes.
pub fn pieces(data: &[u8]) -> (Vec<&[u8]>, &[u8]) {
    let (control, payload) = data.split_at(data.len().min(4));
    let mut pieces = Vec::new();
    let mut rest = payload;
    let mut turn = 0;
    while !rest.is_empty() {
        // 0..=63 bytes per piece; an empty piece is a write of nothing, which must change nothing.
        let length = control.get(turn % control.len().max(1)).map_or(rest.len(), |b| usize::from(b % 64));
        let (piece, after) = rest.split_at(length.min(rest.len()));
        pieces.push(piece);
        rest = after;
        turn += 1;
        if pieces.len() > payload.len() + 8 {
            // Only empty pieces for a while: the rest in one.
            pieces.push(rest);
            break;
        }
    }
    (pieces, payload)
}
