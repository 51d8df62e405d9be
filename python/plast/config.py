"""plast.Config: an experiment configuration (model.*, task.*, train.*, env.*, rl.*, ppo.*, sweep.*)."""
import ctypes
import json

from ._lib import Err, check, lib


class Config:
    """The configuration of an experiment: the defaults, a JSON file's values, then set() overrides. Unknown keys
    and wrong types raise ValueError naming the key, as the command-line tool does."""

    def __init__(self, path=None, **sets):
        self._buf = ctypes.create_string_buffer(lib.plast_experiment_cfg_bytes())
        err = Err()
        check(lib.plast_experiment_cfg_load(self._ptr, path.encode() if path else None, 0, None,
                                            ctypes.byref(err)), err)
        for k, v in sets.items():
            self.set(k.replace("__", "."), v)

    @property
    def _ptr(self):
        return ctypes.cast(self._buf, ctypes.c_void_p)

    def set(self, key, value):
        """Sets one key ("model.hidden", 64); returns self."""
        if isinstance(value, bool):
            value = "true" if value else "false"
        err = Err()
        check(lib.plast_cfg_apply_set(lib.plast_experiment_cfg_schema(), self._ptr, ("%s=%s" % (key, value)).encode(),
                                      ctypes.byref(err)), err)
        return self

    def get(self, key):
        """The value of a key, as the configuration prints it (a string)."""
        buf = ctypes.create_string_buffer(4096)
        out = lib.plast_cfg_format_value(lib.plast_experiment_cfg_schema(), self._ptr, key.encode(), buf, 4096)
        if out is None:
            raise ValueError("unknown key '%s'" % key)
        return buf.value.decode()

    def to_json(self):
        """Every key, resolved, as JSON text."""
        schema = lib.plast_experiment_cfg_schema()
        n = lib.plast_cfg_to_json(schema, self._ptr, None, 0)
        buf = ctypes.create_string_buffer(n + 1)
        lib.plast_cfg_to_json(schema, self._ptr, buf, n + 1)
        return buf.value.decode()

    def to_dict(self):
        return json.loads(self.to_json())

    def dump(self, path):
        """Writes the resolved configuration as JSON (a file plast train accepts)."""
        with open(path, "w") as f:
            f.write(self.to_json() + "\n")

    def copy(self):
        c = Config.__new__(Config)
        c._buf = ctypes.create_string_buffer(self._buf.raw, len(self._buf))
        return c

    def __repr__(self):
        return "plast.Config(%s)" % self.to_json()[:200]
