"""DMN 1.1 to 1.5 decision files (``.dmn``) read into :mod:`apg_workflow.model.decisions`.

>>> definitions = read_dmn(open("tests/fixtures/dmn/camunda_dish.dmn", "rb").read())  # doctest: +SKIP
>>> definitions.get("dish").table.hit_policy  # doctest: +SKIP
<HitPolicy.UNIQUE: 'UNIQUE'>
"""

from apg_workflow.formats.dmn.reader import read_dmn
from apg_workflow.formats.dmn.xml import VERSIONS

__all__ = ["VERSIONS", "read_dmn"]
