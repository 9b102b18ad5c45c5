//! Typing ahead while a call runs: the terminal's input is read by us, not
//! left in the terminal, so that no line is lost and Ctrl-C cancels the
//! call instead of killing the shell.
//!
//! Why: rustyline reads its next line by itself and, when a prompt starts,
//! may consume what is waiting in the terminal (lines typed or pasted
//! during a call were lost), and in the terminal's normal mode Ctrl-C
//! sends SIGINT, which ends the process. So while a line runs, a thread
//! puts the terminal in non-canonical mode without echo or signals, reads
//! every byte, and cuts it into lines ([`Assembler`]); the shell queues
//! those lines and runs them in order, and gets Ctrl-C as an interrupt.

use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::termios::{self, InputFlags, LocalFlags, SetArg, SpecialCharacterIndices};
use tokio::sync::mpsc;

/// How often the reader looks whether it is to stop; the delay it adds to
/// the end of each line.
const POLL_MS: u8 = 20;

/// What the terminal sent while a line ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Captured {
    /// Lines ended with Enter (typed or pasted), in order; blank ones left
    /// out.
    pub(super) lines: Vec<String>,
    /// What was typed after the last Enter: the start of the next line.
    pub(super) partial: String,
}

/// The terminal, read by a thread while a line runs.
pub(super) struct Typeahead {
    /// Tells the thread to stop reading and give the terminal back.
    stop: Arc<AtomicBool>,
    /// The thread; it gives what it captured.
    thread: JoinHandle<Captured>,
}

impl Typeahead {
    /// Starts reading the terminal (stdin), `partial` being what was typed
    /// of the current line so far; each Ctrl-C is sent on `interrupts`.
    /// Fails when stdin's modes cannot be changed (then the
    /// line is run without type-ahead).
    pub(super) fn start(
        partial: &str,
        interrupts: mpsc::UnboundedSender<()>,
    ) -> nix::Result<Typeahead> {
        let stdin = std::io::stdin();
        let original = termios::tcgetattr(stdin.as_fd())?;
        let mut raw = original.clone();
        // Bytes as they come (no line editing by the terminal), not shown
        // (the shell shows each line when it runs it), Ctrl-C as a byte.
        raw.local_flags
            .remove(LocalFlags::ICANON | LocalFlags::ECHO | LocalFlags::ISIG | LocalFlags::IEXTEN);
        raw.input_flags.remove(InputFlags::IXON);
        raw.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
        raw.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
        // TCSANOW: never TCSAFLUSH, which would throw away what was typed.
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let assembler = Assembler::continuing(partial);
        let thread = std::thread::spawn(move || {
            let captured = read_until_stopped(assembler, &stopping, &interrupts);
            // Back as rustyline and the commands expect it.
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, &original);
            captured
        });
        Ok(Typeahead { stop, thread })
    }

    /// Stops reading, gives the terminal back as it was, and returns what
    /// was typed meanwhile.
    pub(super) fn finish(self) -> Captured {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap_or_default()
    }
}

/// Reads stdin into `assembler` until `stop`; sends each Ctrl-C on
/// `interrupts`.
fn read_until_stopped(
    mut assembler: Assembler,
    stop: &AtomicBool,
    interrupts: &mpsc::UnboundedSender<()>,
) -> Captured {
    let stdin = std::io::stdin();
    let mut buffer = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(POLL_MS)) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break,
        }
        // Straight from the descriptor: std's buffered stdin would keep
        // bytes that rustyline, reading the descriptor, would never see.
        match nix::unistd::read(stdin.as_fd(), &mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                for _ in 0..assembler.feed(&buffer[..n]) {
                    let _ = interrupts.send(());
                }
            }
            Err(nix::errno::Errno::EINTR | nix::errno::Errno::EAGAIN) => continue,
            Err(_) => break,
        }
    }
    assembler.finish()
}

/// Cuts the bytes of a terminal in non-canonical mode into lines: Enter
/// (`\r` or `\n`) ends a line, backspace and Ctrl-U edit it, escape
/// sequences (arrow keys, the markers of a bracketed paste) are dropped,
/// Ctrl-C is counted as an interrupt.
#[derive(Debug, Default)]
pub(super) struct Assembler {
    /// The lines ended so far.
    lines: Vec<String>,
    /// The line being typed, as bytes (UTF-8 once it ends).
    current: Vec<u8>,
    /// Where an escape sequence is: not in one, just after ESC, or in a
    /// CSI sequence (`ESC [` ... up to a final byte).
    escape: Escape,
    /// Whether the last byte was `\r`, so that `\r\n` ends one line only.
    after_cr: bool,
}

/// Where the assembler is in an escape sequence.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Escape {
    /// Not in one.
    #[default]
    None,
    /// Just after ESC.
    Started,
    /// In `ESC [ ...`, until a byte in `@..=~`.
    Csi,
}

impl Assembler {
    /// An assembler whose current line starts with `partial`.
    pub(super) fn continuing(partial: &str) -> Assembler {
        Assembler {
            current: partial.as_bytes().to_vec(),
            ..Assembler::default()
        }
    }

    /// Takes `bytes`; returns how many Ctrl-C they held.
    pub(super) fn feed(&mut self, bytes: &[u8]) -> usize {
        let mut interrupts = 0;
        for &byte in bytes {
            let after_cr = std::mem::replace(&mut self.after_cr, byte == b'\r');
            match self.escape {
                Escape::Started => {
                    self.escape = if byte == b'[' {
                        Escape::Csi
                    } else {
                        Escape::None
                    };
                    continue;
                }
                Escape::Csi => {
                    if (0x40..=0x7e).contains(&byte) {
                        self.escape = Escape::None;
                    }
                    continue;
                }
                Escape::None => {}
            }
            match byte {
                0x03 => interrupts += 1,
                0x1b => self.escape = Escape::Started,
                b'\n' if after_cr => {}
                b'\r' | b'\n' => self.end_line(),
                0x7f | 0x08 => self.erase_char(),
                0x15 => self.current.clear(),
                // Tab and other control keys mean nothing here.
                byte if byte < 0x20 => {}
                byte => self.current.push(byte),
            }
        }
        interrupts
    }

    /// The lines ended so far, and what follows them.
    pub(super) fn finish(self) -> Captured {
        Captured {
            lines: self.lines,
            partial: String::from_utf8_lossy(&self.current).into_owned(),
        }
    }

    /// Ends the current line; a blank one is dropped.
    fn end_line(&mut self) {
        let line = String::from_utf8_lossy(&self.current).into_owned();
        self.current.clear();
        if !line.trim().is_empty() {
            self.lines.push(line);
        }
    }

    /// Erases the last character (all the bytes of a UTF-8 one).
    fn erase_char(&mut self) {
        while let Some(byte) = self.current.pop() {
            // Continuation bytes are 10xxxxxx: keep going to the first.
            if byte & 0xc0 != 0x80 {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assemble(chunks: &[&[u8]]) -> (Captured, usize) {
        let mut assembler = Assembler::continuing("");
        let interrupts = chunks.iter().map(|chunk| assembler.feed(chunk)).sum();
        (assembler.finish(), interrupts)
    }

    #[test]
    fn enter_ends_lines_in_order_and_the_rest_is_kept() {
        let (captured, interrupts) = assemble(&[b"services\r", b"stats\r\ndesc", b"ribe m"]);
        assert_eq!(captured.lines, ["services", "stats"]);
        assert_eq!(captured.partial, "describe m");
        assert_eq!(interrupts, 0);
    }

    #[test]
    fn a_line_begun_before_goes_on() {
        let mut assembler = Assembler::continuing("math.Math/Sum {\"a\": 1,");
        assembler.feed(b" \"b\": 2}\rhel");
        let captured = assembler.finish();
        assert_eq!(captured.lines, [r#"math.Math/Sum {"a": 1, "b": 2}"#]);
        assert_eq!(captured.partial, "hel");
    }

    #[test]
    fn a_bracketed_paste_gives_each_of_its_lines() {
        let (captured, _) = assemble(&[b"\x1b[200~math.Math/Sum {}\nhelp\n\x1b[201~"]);
        assert_eq!(captured.lines, ["math.Math/Sum {}", "help"]);
        assert_eq!(captured.partial, "");
    }

    #[test]
    fn editing_keys_edit_and_escape_sequences_are_dropped() {
        let (captured, _) = assemble(&["héx\x7f\x7fé\x1b[Dllo\rjunk\x15ok".as_bytes()]);
        assert_eq!(captured.lines, ["héllo"]);
        assert_eq!(captured.partial, "ok");
    }

    #[test]
    fn ctrl_c_is_counted_and_blank_lines_dropped() {
        let (captured, interrupts) = assemble(&[b"\r\r  \r\x03", b"\x03"]);
        assert!(captured.lines.is_empty());
        assert_eq!(interrupts, 2);
    }
}
