//! `/dev/tty` is the controlling terminal of the instance, which is the host terminal of `veil
//! run` (if it has one); a program whose stdio is that terminal sees it as one, with its modes
//! and window size. Each case runs the same program natively and under Veil in the same
//! host conditions and compares what it sees.

mod common;

use common::{need, veil_bin};
use std::process::{Command, Stdio};

/// Opens /dev/tty and prints what happened.
const OPEN_TTY: &str = "import errno, os\n\
                        try:\n    os.open('/dev/tty', os.O_RDWR)\n    print('opened')\n\
                        except OSError as e:\n    print(errno.errorcode[e.errno])\n";

/// Runs `argv` with a host Python as the session leader of a pseudo-terminal of 33 rows and 77
/// columns (its stdin, stdout and stderr, and its controlling terminal) and returns everything
/// written to the terminal.
fn on_a_terminal(argv: &[&str]) -> String {
    let driver = r#"
import fcntl, os, pty, struct, sys, termios
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 77, 0, 0))
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
try:
    while True:
        chunk = os.read(fd, 1000)
        if not chunk:
            break
        out += chunk
except OSError:
    pass
os.waitpid(pid, 0)
sys.stdout.write(out.decode().replace("\r\n", "\n"))
"#;
    let out = Command::new("/usr/bin/python3")
        .args(["-c", driver])
        .args(argv)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Without a controlling terminal (a new host session, no terminal on stdio) opening /dev/tty
/// fails with ENXIO, as on Linux.
#[test]
fn no_controlling_terminal_gives_enxio() {
    need("/usr/bin/python3");
    need("/usr/bin/setsid");
    let run = |prefix: &[&str]| {
        let out = Command::new("/usr/bin/setsid")
            .arg("--wait")
            .args(prefix)
            .args(["/usr/bin/python3", "-c", OPEN_TTY])
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{prefix:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let native = run(&[]);
    assert_eq!(native, "ENXIO\n");
    assert_eq!(run(&[veil_bin(), "run", "--rootfs", "/"]), native);
}

/// On a terminal, /dev/tty is that terminal (what is written there appears on it), and a
/// process that starts a session of its own has no controlling terminal any more.
#[test]
fn dev_tty_is_the_terminal_of_veil_run() {
    need("/usr/bin/python3");
    let program = "import errno, os, sys\n\
                   fd = os.open('/dev/tty', os.O_RDWR)\n\
                   os.write(fd, b'written to dev tty\\n')\n\
                   sys.stdout.flush()\n\
                   pid = os.fork()\n\
                   if pid == 0:\n    os.setsid()\n    exec(sys.argv[1])\n    os._exit(0)\n\
                   os.waitpid(pid, 0)\n";
    let out = same_on_a_terminal(&["/usr/bin/python3", "-c", program, OPEN_TTY]);
    assert_eq!(out, "written to dev tty\nENXIO\n");
}

/// On a terminal, the program sees one (TCGETS: `isatty`, the terminal's modes) of the size
/// set on it (TIOCGWINSZ).
#[test]
fn the_terminal_and_its_window_size_pass_through() {
    need("/usr/bin/python3");
    let program = "import os, termios\n\
                   size = os.get_terminal_size(1)\n\
                   canonical = termios.tcgetattr(1)[3] & termios.ICANON != 0\n\
                   print(os.isatty(0), os.isatty(1), canonical, size.lines, size.columns)\n";
    let out = same_on_a_terminal(&["/usr/bin/python3", "-c", program]);
    assert_eq!(out, "True True True 33 77\n");
}

/// Runs `argv` on a terminal natively and under `veil run`: both must write the same, which
/// is returned.
fn same_on_a_terminal(argv: &[&str]) -> String {
    let native = on_a_terminal(argv);
    let veil = [veil_bin(), "run", "--rootfs", "/"];
    assert_eq!(on_a_terminal(&[&veil[..], argv].concat()), native);
    native
}
