//! A TCP proxy between the app and PostgreSQL that a test can cut and restore, to show the
//! service answering 503 while its database is away and recovering on its own.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};

pub struct Proxy {
    pub addr: SocketAddr,
    cut: Arc<AtomicBool>,
    pipes: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    /// Starts forwarding a free local port to `upstream`, on a thread of its own.
    pub fn start(upstream: SocketAddr) -> Proxy {
        let cut = Arc::new(AtomicBool::new(false));
        let pipes = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let (cut2, pipes2) = (cut.clone(), pipes.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
                tx.send(listener.local_addr().expect("addr")).expect("send addr");
                loop {
                    let Ok((mut client, _)) = listener.accept().await else {
                        continue;
                    };
                    if cut2.load(Ordering::SeqCst) {
                        drop(client); // refused: the database is "down"
                        continue;
                    }
                    let task = tokio::spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                    pipes2.lock().expect("lock").push(task.abort_handle());
                }
            });
        });
        let addr = rx.recv().expect("proxy address");
        Proxy { addr, cut, pipes }
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for pipe in self.pipes.lock().expect("lock").drain(..) {
            pipe.abort();
        }
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}
