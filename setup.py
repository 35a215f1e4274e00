"""Build hook: the wheel ships migrations/, forms/ and processes/ inside the engine package.

They stay top-level folders in the repository (designers and operators find them there); an
installed onewindow finds its copies under `engine/shipped/` (see `engine.config.shipped_dir`).
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("migrations", "forms", "processes")


class BuildWithShippedFiles(build_py):
    def run(self) -> None:
        super().run()
        for name in SHIPPED:
            target = Path(self.build_lib) / "engine" / "shipped" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(name, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithShippedFiles})
