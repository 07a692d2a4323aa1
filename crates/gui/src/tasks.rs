//! Work the UI asked the backend or the platform for: a [`Task`] holds the [`Reply`] so that
//! a panel can show a spinner meanwhile and take the answer once.

use alicia_model::backend::Reply;

/// An answer on its way.
pub struct Task<T: Send + 'static> {
    reply: Option<Reply<T>>,
}

impl<T: Send + 'static> Default for Task<T> {
    fn default() -> Self {
        Self { reply: None }
    }
}

impl<T: Send + 'static> Task<T> {
    /// Waits for `reply` (replacing any unfinished one).
    pub fn start(&mut self, reply: Reply<T>) {
        self.reply = Some(reply);
    }

    /// True while the answer is on its way.
    pub fn running(&self) -> bool {
        self.reply.as_ref().is_some_and(|p| p.ready().is_none())
    }

    /// The answer, once, when it is here.
    pub fn take(&mut self) -> Option<T> {
        match self.reply.take()?.try_take() {
            Ok(answer) => Some(answer),
            Err(reply) => {
                self.reply = Some(reply);
                None
            }
        }
    }
}
