"""Settings real Broker has that we do not implement refuse to be set,
instead of being accepted and ignored."""

from __future__ import annotations

import pytest

import broker

from conftest import make_config


def test_simulated_time_is_refused():
    opts = broker.BrokerOptions()
    assert opts.use_real_time is True
    with pytest.raises(ValueError, match="simulated time"):
        opts.use_real_time = False
    opts.use_real_time = True


def test_a_broker_conf_in_the_working_directory_is_not_ignored_silently(tmp_path,
                                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broker.conf").write_text("broker.disable_ssl = true\n")
    with pytest.raises(ValueError, match="broker.conf is not supported"):
        broker.Endpoint(make_config())
    # Told to ignore it, as real Broker can be: fine.
    with broker.Endpoint(make_config(ignore_broker_conf=True)) as ep:
        assert ep.listen("127.0.0.1", 0) > 0


def test_without_a_broker_conf_the_default_is_fine(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with broker.Endpoint() as ep:
        assert ep.listen("127.0.0.1", 0) > 0
