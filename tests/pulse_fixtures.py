"""A private PulseAudio server for capture tests: real PulseAudio, with a null sink instead of
speakers and a silent null source instead of a microphone.

The server runs as whoever runs the tests (root included: ``--system=false`` only warns), with
every path it uses (runtime dir, state, cookie, config) in a temporary folder, so it never meets
a user's own sound server. Clients in this process (libpulse through the ALSA ``pulse`` plugin)
and the pactl / paplay it runs find it through PULSE_SERVER. It is stopped by its own PID.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SINK = "testsink"
SINK_DESCRIPTION = "Test Sink"
MONITOR = f"{SINK}.monitor"
MIC = "testmic"            # a silent null source, made the default "microphone"
_START_TIMEOUT_S = 15
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> Callable[[], object] | None:
    """A preexec_fn that makes the child get SIGTERM when this process dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)   # looked up before fork, called after
    return lambda: libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class PulseServer:
    """One pulseaudio process with its socket in ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "native"
        self.log = root / "pulseaudio.log"
        self.proc: subprocess.Popen | None = None
        self.client_env = {
            "PULSE_SERVER": f"unix:{self.socket}",
            "PULSE_COOKIE": str(root / "client-cookie"),
            "PULSE_CLIENTCONFIG": str(root / "client.conf"),
            "PULSE_RUNTIME_PATH": str(root / "client-runtime"),
        }

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        """Start the server with a null sink and a null source; wait until it answers."""
        for sub in ("runtime", "state", "config", "xdg", "client-runtime"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        # Never let a client autospawn a server of its own somewhere else.
        (self.root / "client.conf").write_text("autospawn = no\n", encoding="utf-8")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PULSE_", "DBUS_")) and k not in ("DISPLAY", "HOME")}
        env.update(HOME=str(self.root), XDG_RUNTIME_DIR=str(self.root / "xdg"),
                   XDG_CONFIG_HOME=str(self.root / "config"),
                   PULSE_RUNTIME_PATH=str(self.root / "runtime"),
                   PULSE_STATE_PATH=str(self.root / "state"))
        cmd = ["pulseaudio", "-n", "--daemonize=no", "--system=false", "--exit-idle-time=-1",
               "--disallow-exit", "--use-pid-file=false", "--realtime=false",
               "--high-priority=false", "--log-target=stderr",
               f"--load=module-native-protocol-unix socket={self.socket} auth-anonymous=1"]
        with open(self.log, "wb") as log:
            # If the test run is killed, the server must not outlive it.
            self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=_die_with_parent())
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"pulseaudio did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)
        try:
            self._add_devices()
        except BaseException:
            self.stop()     # never leave a half-set-up server behind
            raise

    def _add_devices(self) -> None:
        self.pactl("load-module", "module-null-sink", f"sink_name={SINK}",
                   f"sink_properties=\"device.description='{SINK_DESCRIPTION}'\"")
        self.pactl("load-module", "module-null-source", f"source_name={MIC}",
                   "description='Test Microphone'")
        # A real output is clocked by its sound card and runs whenever its monitor is
        # recorded; an idle null sink instead renders in blocks of up to 2 s, so a new monitor
        # stream could wait that long for its first audio. Looping the silent source into the
        # sink keeps it running at a real device's pace.
        self.pactl("load-module", "module-loopback", f"source={MIC}", f"sink={SINK}",
                   "latency_msec=20", "source_dont_move=true", "sink_dont_move=true")
        # A just-created null sink already rendered its first 2 s block; suspending and
        # resuming it restarts its clock at the loopback's 20 ms pace.
        self.pactl("suspend-sink", SINK, "1")
        self.pactl("suspend-sink", SINK, "0")
        self.pactl("set-default-sink", SINK)
        self.pactl("set-default-source", MIC)

    def _answers(self) -> bool:
        if not self.socket.exists():
            return False
        proc = subprocess.run(["pactl", "info"], env={**os.environ, **self.client_env},
                              capture_output=True, timeout=5, check=False)
        return proc.returncode == 0

    def pactl(self, *args: str) -> str:
        """Run pactl against this server; raise with its stderr on failure."""
        proc = subprocess.run(["pactl", *args], env={**os.environ, **self.client_env},
                              capture_output=True, text=True, timeout=10, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"pactl {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def play(self, wav: Path, sink: str = SINK) -> subprocess.Popen:
        """Start playing ``wav`` into ``sink`` with paplay; returns the running process."""
        return subprocess.Popen(["paplay", f"--device={sink}", str(wav)],
                                env={**os.environ, **self.client_env},
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self) -> None:
        """Stop the server by its PID (SIGTERM, then SIGKILL if it lingers)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


def _require_pulseaudio() -> None:
    missing = [tool for tool in ("pulseaudio", "pactl", "paplay") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"PulseAudio is not installed (missing: {', '.join(missing)}; Debian: "
                    "apt install pulseaudio pulseaudio-utils)")


def _rescan() -> None:
    # PortAudio lists the ALSA "pulse" device only if a server answered when it initialised.
    from desktop_asr.capture import rescan_devices

    rescan_devices()


@pytest.fixture(scope="module")
def pulse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseServer]:
    """A private PulseAudio server for the module, with this process pointed at it."""
    _require_pulseaudio()
    server = PulseServer(tmp_path_factory.mktemp("pulse"))
    server.start()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in server.client_env.items():
            mp.setenv(key, value)
        mp.delenv("PULSE_SOURCE", raising=False)
        mp.delenv("PULSE_SINK", raising=False)
        _rescan()
        try:
            yield server
        finally:
            server.stop()
    _rescan()


@pytest.fixture
def fresh_pulse_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                       ) -> Iterator[PulseServer]:
    """A private PulseAudio server for one test (which may kill it), this process pointed at it."""
    _require_pulseaudio()
    server = PulseServer(tmp_path / "pulse")
    server.start()
    for key, value in server.client_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("PULSE_SOURCE", raising=False)
    _rescan()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def no_pulse_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point libpulse at a server that does not exist (and keep it out of the real home)."""
    (tmp_path / "client.conf").write_text("autospawn = no\n", encoding="utf-8")
    env = {"PULSE_SERVER": f"unix:{tmp_path / 'no-server'}",
           "PULSE_COOKIE": str(tmp_path / "cookie"),
           "PULSE_CLIENTCONFIG": str(tmp_path / "client.conf"),
           "PULSE_RUNTIME_PATH": str(tmp_path / "runtime")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    _rescan()
    return env
