"""Tank geometry: tape-measure centimetres -> litres -> capacity in the product's unit.

This is the one place where measured dimensions are converted. A tank is stored
as measured (cm); everything else (litres, capacity, the amount a depth reading
means) is computed here.

    >>> tank = TankGeometry.cylinder(diameter_cm=40, height_cm=60)
    >>> round(tank.litres, 1)
    75.4
    >>> round(tank.capacity(units_per_litre=0.8), 1)   # rice at 0.8 kg/L
    60.3
    >>> round(tank.level_from_depth(20, units_per_litre=0.8), 1)  # 20 cm of rice left
    20.1

Errors: constructing a tank with a missing or non-positive dimension raises
``ValueError`` naming the field and what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from replenish.core.types import TankShape

__all__ = ["TankGeometry"]


MAX_CM = 10_000.0  # 100 m: anything bigger is a typo, not a tank


def _positive(name: str, value: float | None) -> float:
    if value is None:
        raise ValueError(f"{name} is required for this tank shape")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number of cm, got {value!r}")
    if value > MAX_CM:
        raise ValueError(f"{name} must be at most {MAX_CM:g} cm, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class TankGeometry:
    """A container as measured with a soft tape.

    ``cylinder`` needs diameter and height; ``box`` needs width, depth and height;
    ``capacity`` takes the capacity in product units directly (a height, if given,
    lets depth readings convert linearly).
    """

    shape: TankShape
    diameter_cm: float | None = None
    width_cm: float | None = None
    depth_cm: float | None = None
    height_cm: float | None = None
    capacity_units: float | None = None

    def __post_init__(self) -> None:
        shape = TankShape(self.shape)
        object.__setattr__(self, "shape", shape)
        if shape is TankShape.CYLINDER:
            _positive("diameter_cm", self.diameter_cm)
            _positive("height_cm", self.height_cm)
        elif shape is TankShape.BOX:
            _positive("width_cm", self.width_cm)
            _positive("depth_cm", self.depth_cm)
            _positive("height_cm", self.height_cm)
        else:
            cap = self.capacity_units
            if cap is None or not math.isfinite(cap) or cap <= 0:
                raise ValueError(f"capacity must be a positive amount, got {cap!r}")
            if cap > 1e9:
                raise ValueError(f"capacity must be at most 1e9, got {cap!r}")
            if self.height_cm is not None:
                _positive("height_cm", self.height_cm)

    @classmethod
    def cylinder(cls, *, diameter_cm: float, height_cm: float) -> TankGeometry:
        return cls(TankShape.CYLINDER, diameter_cm=diameter_cm, height_cm=height_cm)

    @classmethod
    def box(cls, *, width_cm: float, depth_cm: float, height_cm: float) -> TankGeometry:
        return cls(TankShape.BOX, width_cm=width_cm, depth_cm=depth_cm, height_cm=height_cm)

    @classmethod
    def direct(cls, *, capacity: float, height_cm: float | None = None) -> TankGeometry:
        return cls(TankShape.CAPACITY, capacity_units=capacity, height_cm=height_cm)

    @property
    def area_cm2(self) -> float | None:
        """Cross-section in cm², or None for a tank entered by capacity."""
        if self.shape is TankShape.CYLINDER:
            assert self.diameter_cm is not None
            return math.pi * (self.diameter_cm / 2) ** 2
        if self.shape is TankShape.BOX:
            assert self.width_cm is not None and self.depth_cm is not None
            return self.width_cm * self.depth_cm
        return None

    @property
    def litres(self) -> float | None:
        """Inside volume in litres (None when only the capacity was entered)."""
        area = self.area_cm2
        if area is None:
            return None
        assert self.height_cm is not None
        return area * self.height_cm / 1000.0

    def capacity(self, *, units_per_litre: float) -> float:
        """How much product fills the tank, in the product's unit."""
        if self.shape is TankShape.CAPACITY:
            assert self.capacity_units is not None
            return self.capacity_units
        if not math.isfinite(units_per_litre) or units_per_litre <= 0:
            raise ValueError(f"units_per_litre must be positive, got {units_per_litre!r}")
        litres = self.litres
        assert litres is not None
        return litres * units_per_litre

    def level_from_depth(self, depth_cm: float, *, units_per_litre: float) -> float:
        """The amount in the tank when the product stands ``depth_cm`` high.

        A depth above the tank's height is an error (the tape was read wrong),
        not a full tank.
        """
        height = self._height_for_depth()
        if not math.isfinite(depth_cm) or depth_cm < 0:
            raise ValueError(f"a fill depth must be zero or more cm, got {depth_cm!r}")
        if depth_cm > height + 1e-9:
            raise ValueError(
                f"a fill of {depth_cm:g} cm is more than the tank's height {height:g} cm"
            )
        return self.capacity(units_per_litre=units_per_litre) * depth_cm / height

    def depth_from_level(self, level: float, *, units_per_litre: float) -> float:
        """The depth in cm that ``level`` product units fill to."""
        height = self._height_for_depth()
        cap = self.capacity(units_per_litre=units_per_litre)
        if not math.isfinite(level) or level < 0 or level > cap * (1 + 1e-9):
            raise ValueError(f"level must be between 0 and capacity {cap:g}, got {level!r}")
        return height * level / cap

    def _height_for_depth(self) -> float:
        if self.height_cm is None:
            raise ValueError(
                "this tank was entered by capacity without height_cm; "
                "add height_cm to convert depth readings"
            )
        return self.height_cm
