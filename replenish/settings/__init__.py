"""settings.toml + environment -> typed, frozen settings.

Where values come from, strongest first:

1. ``REPLENISH_*`` environment variables; nested keys are joined with ``__``
   (``REPLENISH_FORECAST__RISK=0.05``, ``REPLENISH_SHOP__TIMEZONE=Asia/Taipei``,
   ``REPLENISH_PRODUCTS__RICE__MIN_DROP=10``). ``REPLENISH_DATABASE_URL`` picks
   the database.
2. The TOML file named by ``REPLENISH_SETTINGS``, else ``settings.toml`` in the
   working directory (a missing ``settings.toml`` is fine: defaults apply; a
   missing file named by ``REPLENISH_SETTINGS`` is an error).
3. The defaults below (they match the documented ``settings.toml``).

Errors::

    SettingsError (ValueError)   any invalid value, unknown key or unreadable file;
                                 the message names the key, the bad value and
                                 what is allowed.
"""


from __future__ import annotations

import difflib
import os
import re
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from replenish.settings.base import validate_currency, validate_region, validate_timezone
from replenish.settings.jobs import JobsSettings
from replenish.settings.messaging import ConversationSettings, SmsSettings, TwilioParams
from replenish.settings.routing import RoutingSettings, WebSettings
from replenish.settings.sections import (
    ForecastSettings,
    MeasurementErrorParams,
    PriorParams,
    ProductParams,
    ShopParams,
    default_products,
)

__all__ = [
    "ENV_PREFIX",
    "SETTINGS_PATH_ENV",
    "ConversationSettings",
    "ForecastSettings",
    "JobsSettings",
    "MeasurementErrorParams",
    "PriorParams",
    "RoutingSettings",
    "ProductParams",
    "Settings",
    "SettingsError",
    "ShopParams",
    "SmsSettings",
    "TwilioParams",
    "WebSettings",
    "load_settings",
    "validate_currency",
    "validate_region",
    "validate_timezone",
]

ENV_PREFIX = "REPLENISH_"
SETTINGS_PATH_ENV = "REPLENISH_SETTINGS"
DEFAULT_SETTINGS_FILE = "settings.toml"
DEFAULT_DATABASE_URL = "sqlite:///replenish.db"


class SettingsError(ValueError):
    """Settings that cannot be used. ``problems`` holds one line per bad key."""

    def __init__(self, problems: list[str], *, source: str) -> None:
        self.problems = problems
        self.source = source
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid settings ({source}):\n{lines}")

    @classmethod
    def from_validation_error(cls, error: ValidationError, *, source: str) -> SettingsError:
        problems = []
        for item in error.errors(include_url=False):
            key = ".".join(str(part) for part in item["loc"]) or "(top level)"
            env = ENV_PREFIX + "__".join(str(part) for part in item["loc"]).upper()
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "missing":
                problems.append(f"{key}: is required but missing (or set {env})")
            elif item["type"] == "extra_forbidden":
                problems.append(f"{key}: is not a known setting (check the spelling)")
            else:
                problems.append(
                    f"{key} = {item.get('input')!r}: {message} (settings file key {key!r}, "
                    f"or environment variable {env})"
                )
        return cls(problems, source=source)


# Validators shared with the database models (a shop's own values are checked the same way).


class Settings(BaseSettings):
    """Everything a shop owner can set. Frozen: load once at start, pass it down."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    database_url: str = Field(default=DEFAULT_DATABASE_URL, min_length=1)
    shop: ShopParams = ShopParams()
    forecast: ForecastSettings = ForecastSettings()
    sms: SmsSettings = SmsSettings()
    conversation: ConversationSettings = ConversationSettings()
    jobs: JobsSettings = JobsSettings()
    routing: RoutingSettings = RoutingSettings()
    web: WebSettings = WebSettings()
    products: dict[str, ProductParams] = Field(default_factory=default_products)

    @field_validator("products")
    @classmethod
    def _product_keys_are_identifiers(
        cls, value: dict[str, ProductParams]
    ) -> dict[str, ProductParams]:
        for key in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
                raise ValueError(
                    f"product key {key!r} must be lowercase letters, digits and '_' "
                    "(such as 'rice' or 'cooking_oil')"
                )
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_toml_path.get())
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, toml]
        if "products" not in toml.toml_data:
            # Environment overrides such as REPLENISH_PRODUCTS__RICE__MIN_DROP are merged
            # into the default products rather than replacing them all.
            sources.append(_DefaultProductsSource(settings_cls))
        return tuple(sources)


class _DefaultProductsSource(PydanticBaseSettingsSource):
    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return {"products": {key: p.model_dump() for key, p in default_products().items()}}


_toml_path: ContextVar[Path | None] = ContextVar("_toml_path", default=None)


def _settings_path(path: str | os.PathLike[str] | None) -> tuple[Path | None, str]:
    """The TOML file to read (None when there is none) and a description for messages."""
    if path is None and os.environ.get(SETTINGS_PATH_ENV):
        path = os.environ[SETTINGS_PATH_ENV]
        named_by = f" (named by {SETTINGS_PATH_ENV})"
    else:
        named_by = ""
    if path is not None:
        chosen = Path(path)
        if not chosen.is_file():
            raise SettingsError(
                [f"settings file {str(chosen)!r}{named_by} does not exist"],
                source=str(chosen),
            )
        return chosen, f"{chosen} and {ENV_PREFIX}* environment variables"
    default = Path(DEFAULT_SETTINGS_FILE)
    if default.is_file():
        return default, f"{default.resolve()} and {ENV_PREFIX}* environment variables"
    return None, f"defaults and {ENV_PREFIX}* environment variables"


def _environment_names(model: type[BaseModel], prefix: str) -> tuple[set[str], set[str]]:
    """Known variable names, and prefixes below which any name is allowed (dict fields)."""
    names: set[str] = set()
    open_prefixes: set[str] = set()
    for field_name, field in model.model_fields.items():
        name = f"{prefix}{field_name.upper()}"
        names.add(name)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            sub_names, sub_open = _environment_names(annotation, name + "__")
            names |= sub_names
            open_prefixes |= sub_open
        elif getattr(annotation, "__origin__", None) is dict:
            open_prefixes.add(name + "__")
    return names, open_prefixes


def _unknown_environment() -> list[str]:
    """REPLENISH_* variables that name no setting (a typo would otherwise be ignored)."""
    names, open_prefixes = _environment_names(Settings, ENV_PREFIX)
    problems = []
    for variable in sorted(os.environ):
        upper = variable.upper()
        if not upper.startswith(ENV_PREFIX) or upper == SETTINGS_PATH_ENV:
            continue
        if upper.startswith(ENV_PREFIX + "TEST_") or upper in names:
            continue
        if any(upper.startswith(p) for p in open_prefixes):
            continue
        close = difflib.get_close_matches(upper, sorted(names), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        problems.append(f"{variable}: is not a known setting{hint}")
    return problems


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read settings: ``path``, else ``$REPLENISH_SETTINGS``, else ``./settings.toml``.

    Raises SettingsError naming every bad key, its value and what is allowed.
    """
    toml_path, source = _settings_path(path)
    unknown = _unknown_environment()
    if unknown:
        raise SettingsError(unknown, source=f"{ENV_PREFIX}* environment variables")
    token = _toml_path.set(toml_path)
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError.from_validation_error(error, source=source) from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError([f"{toml_path} is not valid TOML: {error}"], source=source) from None
    finally:
        _toml_path.reset(token)
