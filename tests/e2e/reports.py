# Checks that a report file parses as the artifacts:reports type GitLab reads it as.
import json
import re
import xml.etree.ElementTree as ET

# Top-level keys of GitLab's security report schemas (15.x) that GitLab requires.
SECURITY_KEYS = {"version", "vulnerabilities", "scan"}
OPENMETRICS_SAMPLE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$")
DOTENV_LINE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=[^\n]*$")


def check_junit(path):
    root = ET.parse(path).getroot()
    assert root.tag in ("testsuites", "testsuite"), f"{path}: root <{root.tag}>"
    cases = root.findall(".//testcase")
    assert cases, f"{path}: no <testcase>"
    return {"tests": len(cases), "failures": sum(1 for c in cases if c.find("failure") is not None
                                                 or c.find("error") is not None)}


def check_metrics(path):
    lines = path.read_text().splitlines()
    assert lines and lines[-1] == "# EOF", f"{path}: OpenMetrics text must end with '# EOF'"
    samples = {}
    for line in lines[:-1]:
        if line.startswith("#") or not line:
            continue
        name_labels, _, value = line.rpartition(" ")
        assert OPENMETRICS_SAMPLE.match(line), f"{path}: not a metric sample: {line!r}"
        samples[name_labels] = float(value)
    assert samples, f"{path}: no samples"
    return samples


def check_security(path, scan_type):
    report = json.loads(path.read_text())
    missing = SECURITY_KEYS - report.keys()
    assert not missing, f"{path}: missing top-level keys {sorted(missing)}"
    assert report["scan"]["type"] == scan_type, f"{path}: scan.type {report['scan']['type']!r}"
    assert report["scan"]["status"] in ("success", "failure"), path
    assert isinstance(report["vulnerabilities"], list), path
    return report


def check_dotenv(path):
    values = {}
    for line in path.read_text().splitlines():
        if not line:
            continue
        assert DOTENV_LINE.match(line), f"{path}: not KEY=VALUE: {line!r}"
        key, _, value = line.partition("=")
        values[key] = value
    assert values, f"{path}: empty"
    return values


CHECKERS = {
    "junit": check_junit,
    "metrics": check_metrics,
    "secret_detection": lambda p: check_security(p, "secret_detection"),
    "dependency_scanning": lambda p: check_security(p, "dependency_scanning"),
    "dotenv": check_dotenv,
}


def check_reports(job_name, reports, project_dir):
    """Every report the job declares exists under project_dir and parses as its type."""
    assert reports, f"{job_name}: declares no artifacts:reports"
    parsed = {}
    for kind, paths in reports.items():
        assert kind in CHECKERS, f"{job_name}: no check for report type {kind}"
        for rel in [paths] if isinstance(paths, str) else paths:
            path = project_dir / rel
            assert path.is_file(), f"{job_name}: declared {kind} report {rel} was not written"
            parsed[kind] = CHECKERS[kind](path)
    return parsed
