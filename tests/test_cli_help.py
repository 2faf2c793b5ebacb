"""The command line's help: plain text, and every TrainConfig field documented with its default."""

import dataclasses
import re

import pytest

from simulations.cli import COMMANDS, build_parser
from simulations.commands.train import FIELD_FLAGS


def subparser(command: str):
    return build_parser()._subparsers._group_actions[0].choices[command]


def help_text(command: str) -> str:
    return subparser(command).format_help()


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_no_restructured_text_markup(command):
    text = help_text(command)
    assert "``" not in text and not re.search(r":(mod|func|class|data):`", text)


def test_every_train_config_field_has_a_flag_with_help_naming_its_default():
    torch_train = pytest.importorskip("simulations.transformer.train")
    fields = {f.name: f for f in dataclasses.fields(torch_train.TrainConfig)}
    documented = {name.replace("-", "_"): text for name, _, text in FIELD_FLAGS}
    assert set(documented) | {"heads", "mlp"} == set(fields)
    for name, text in documented.items():
        default = fields[name].default
        if default is None:
            assert "(default: " in text, name
        else:
            assert text.endswith(f"(default {default:g})" if isinstance(default, float) else f"(default {default})"), \
                (name, text)
    helps = {action.dest: action.help for action in subparser("train")._actions}
    assert all(helps[name] == text for name, text in documented.items())
    heads = ",".join(str(h) for h in fields["heads"].default_factory())
    assert helps["heads"].endswith(f"(default {heads})") and fields["mlp"].default is False
