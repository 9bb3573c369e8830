//! Running the real `dangjian` binary, for what only a process can show: start-up output,
//! refusing to start, signals and exit codes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A scratch directory for one test's data, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("dangjian-{label}-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    pub fn sqlite_url(&self) -> String {
        format!("sqlite://{}/test.db?mode=rwc", self.0.display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn command(database_url: &str, data_dir: &Path, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dangjian"));
    cmd.env("DATABASE_URL", database_url)
        .env("DANGJIAN_DATA_DIR", data_dir)
        .env("DANGJIAN_BIND", "127.0.0.1:0")
        .env("DANGJIAN_SHUTDOWN_TIMEOUT_SECS", "10")
        .env("RUST_LOG", "info")
        // No demo town on first start unless a test asks for it.
        .env("DANGJIAN_DEMO", "false")
        .env_remove("DANGJIAN_LOG_FORMAT")
        .env_remove("DANGJIAN_JWT_SECRET")
        .env_remove("DANGJIAN_DATA_KEY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs a command to completion with `stdin` as its input.
pub fn run(args: &[&str], database_url: &str, data_dir: &Path, env: &[(&str, &str)], stdin: &str) -> Output {
    let mut child = command(database_url, data_dir, env)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// A running `dangjian serve`.
pub struct Server {
    child: Child,
    pub addr: String,
    output: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub fn start(database_url: &str, data_dir: &Path, env: &[(&str, &str)]) -> Server {
        let mut child = command(database_url, data_dir, env)
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("binary starts");
        let stdout = child.stdout.take().unwrap();
        let output = Arc::new(Mutex::new(Vec::new()));
        let lines = output.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_owned());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server logs its address");
        Server { child, addr, output }
    }

    /// Everything printed to standard output so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }

    /// One HTTP/1.1 request over a fresh connection; returns the raw response.
    pub fn request(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> String {
        let mut stream = TcpStream::connect(&self.addr).expect("connect");
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let body = body.unwrap_or("");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends SIGTERM and waits (at most 15 s) for the exit status.
    pub fn terminate(mut self) -> ExitStatus {
        // SAFETY: signalling our own child process.
        assert_eq!(unsafe { libc::kill(self.pid(), libc::SIGTERM) }, 0);
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "did not exit within the shutdown timeout"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The JSON body of a raw HTTP response.
pub fn json_body(response: &str) -> serde_json::Value {
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {response}"))
}
