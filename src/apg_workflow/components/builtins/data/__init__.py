"""The data family of built-in components: pure transformations of the values given as inputs.

Conventions shared by the family: a list comes in as ``items`` (two as ``left`` / ``right``), a
single value as ``data``, text as ``text``; lists go out as ``items`` with their ``count``, single
values as ``result``. Fields are named by dotted paths (``customer.address.city``). Input of the
wrong shape throws the BPMN error ``invalid-input``, a failing expression ``expression-failed``;
a configuration that cannot work is a ``ConfigurationError`` when it is parsed.
"""

from apg_workflow.components.base import Component
from apg_workflow.components.builtins.data.aggregate import Aggregate
from apg_workflow.components.builtins.data.collections import Chunk, Deduplicate, Filter, Map, Reduce, Sort
from apg_workflow.components.builtins.data.dates import Date
from apg_workflow.components.builtins.data.diff import Diff
from apg_workflow.components.builtins.data.formats import CsvFormat, CsvParse, JsonFormat, JsonParse
from apg_workflow.components.builtins.data.joins import Join, Merge
from apg_workflow.components.builtins.data.markup import XmlParse
from apg_workflow.components.builtins.data.math import Math
from apg_workflow.components.builtins.data.schemas import Validate
from apg_workflow.components.builtins.data.shapes import Flatten, Omit, Pick, Rename, Unflatten
from apg_workflow.components.builtins.data.text import RegexExtract
from apg_workflow.components.builtins.data.transform import TemplateComponent, Transform

COMPONENTS: tuple[type[Component], ...] = (
    Transform,
    TemplateComponent,
    Filter,
    Map,
    Reduce,
    Sort,
    Deduplicate,
    Join,
    Merge,
    Flatten,
    Unflatten,
    Pick,
    Omit,
    Rename,
    Chunk,
    Aggregate,
    CsvParse,
    CsvFormat,
    JsonParse,
    JsonFormat,
    XmlParse,
    Validate,
    RegexExtract,
    Date,
    Math,
    Diff,
)

__all__ = ["COMPONENTS"]
