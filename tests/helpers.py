"""Design dictionaries shared by the tests."""


def block_design_dict(**overrides) -> dict:
    """A small design with box-shaped custom cells in a rigid PP box: every volume is a hand sum."""
    data = {
        "name": "hand-block",
        "product": {
            "custom_cell": {
                "name": "test prism",
                "format": "prismatic",
                "length_m": 0.1,
                "thickness_m": 0.02,
                "height_m": 0.05,
                "mass_kg": 0.25,
                "nominal_voltage_v": 3.2,
                "capacity_ah": 10.0,
                "energy_wh": 32.0,
                "fragility_g": 50.0,
            },
            "rows": 2,
            "columns": 3,
            "spacing_m": 0.01,
        },
        "insert": {
            "material": "eps-24",
            "bottom_thickness_m": 0.03,
            "top_thickness_m": 0.025,
            "side_thickness_m": 0.02,
            "clearance_m": 0.001,
        },
        "container": {"type": "rigid", "material": "pp", "wall_thickness_m": 0.005},
    }
    for path, value in overrides.items():
        node = data
        *parents, leaf = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return data


# A small package that passes UN 6.1.5 at the packing group II level in the fast fidelity: six
# 0.5 kg cells in an EPP insert whose 80 mm pads are relieved to ribs bearing a quarter of each
# face (a light load needs them: on full faces it sits far left on the cushion curve), in a
# single-wall box.
WELL_CUSHIONED = {
    "insert.material": "epp-30", "product.custom_cell.mass_kg": 0.5,
    "product.custom_cell.fragility_g": 150.0, "insert.bottom_thickness_m": 0.08,
    "insert.top_thickness_m": 0.08, "insert.side_thickness_m": 0.08,
    "insert.bearing_fraction": 0.25,
    "container": {"type": "rsc", "board": "board-c-32ect"},
}


def well_cushioned(**overrides):
    """The WELL_CUSHIONED design, with dotted-path overrides."""
    import copy

    import packsim

    return packsim.Design.from_dict(block_design_dict(**copy.deepcopy({**WELL_CUSHIONED,
                                                                      **overrides})))


def drop_standard_toml(standard_id: str, height: str, orientations: list[str],
                       criteria=("cell-peak-g", "no-bottoming"), confidence: str = "HIGH",
                       temperature_c: float | None = None) -> str:
    """A minimal standard file with one drop test (a user's own specification)."""
    names = ", ".join(f'"{o}"' for o in orientations)
    wanted = ", ".join(f'"{c}"' for c in criteria)
    cold = ("" if temperature_c is None else
            f'temperature_c = {{ value = {temperature_c}, clause = "4.2.3", source = "spec", '
            'confidence = "HIGH" }\n')
    return f'''
id = "{standard_id}"
title = "{standard_id}: drop"

[references.spec]
citation = "{standard_id} specification"

[[test]]
id = "drop"
kind = "drop"
title = "drop"
clause = "4.2"
height_m = {{ value = {height}, clause = "4.2.1", source = "spec", confidence = "HIGH" }}
orientations = {{ value = [{names}], clause = "4.2.2", source = "spec", confidence = "{confidence}" }}
criteria = [{wanted}]
{cold}'''
