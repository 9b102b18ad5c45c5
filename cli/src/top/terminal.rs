//! `top` on a terminal: the alternate screen in raw mode, redrawn after
//! each sample and each key, restored however `top` ends (a key, an error,
//! a panic).

use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use tokio::sync::mpsc;

use super::model::{Action, Key, Model};
use super::{sampler, screen};
use crate::failure::Failure;
use crate::session::Session;

/// How often the key reader looks whether `top` ended.
const KEY_POLL: Duration = Duration::from_millis(100);

/// Runs the live view until a key quits it.
pub(super) async fn run(
    session: &Session,
    interval: Duration,
    mut model: Model,
) -> Result<(), Failure> {
    let mut terminal = ratatui::try_init()
        .map_err(|error| Failure::new(format!("cannot use the terminal: {error}")))?;
    let (keys, mut key_events) = mpsc::unbounded_channel();
    let reader = std::thread::spawn(move || read_keys(&keys));
    let (samples, mut sample_events) = mpsc::channel(1);
    let bus = session.bus().clone();
    let sampling = tokio::spawn(sampler::run(bus, interval, samples));
    let name = session.bus().name().to_owned();
    let outcome = loop {
        if let Err(error) = terminal.draw(|frame| screen::draw(frame, &name, &model)) {
            break Err(Failure::new(format!(
                "cannot draw on the terminal: {error}"
            )));
        }
        tokio::select! {
            key = key_events.recv() => match key {
                Some(key) if model.key(key) == Action::Quit => break Ok(()),
                Some(_) => {}
                None => break Err(Failure::new("cannot read the terminal's keys")),
            },
            sample = sample_events.recv() => match sample {
                Some(Ok(sample)) => model.push(sample),
                Some(Err(failure)) => break Err(failure),
                None => break Ok(()),
            },
        }
    };
    sampling.abort();
    ratatui::restore();
    // The reader sees the channel closed at its next poll.
    drop(key_events);
    let _ = reader.join();
    outcome
}

/// Sends each key pressed, until the receiver is gone.
fn read_keys(keys: &mpsc::UnboundedSender<Key>) {
    while !keys.is_closed() {
        match event::poll(KEY_POLL) {
            Ok(false) => continue,
            Ok(true) => {}
            Err(_) => return,
        }
        let Ok(Event::Key(key)) = event::read() else {
            continue;
        };
        if key.kind == KeyEventKind::Release {
            continue;
        }
        let mapped = match key.code {
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => Key::Interrupt,
            KeyCode::Char(c) => Key::Char(c),
            KeyCode::Esc => Key::Escape,
            KeyCode::Enter => Key::Enter,
            KeyCode::Backspace => Key::Backspace,
            _ => continue,
        };
        if keys.send(mapped).is_err() {
            return;
        }
    }
}
