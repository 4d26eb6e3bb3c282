"""RFC 5424 §6 (ABNF) as regular expressions, to check what the formatter writes."""
import re

PRINTUSASCII = r"[\x21-\x7e]"
NIL = "-"
SD_NAME = r"[\x21\x23-\x3c\x3e-\x5c\x5e-\x7e]{1,32}"  # PRINTUSASCII but = SP ] "
PARAM_VALUE = r'(?:[^"\\\]]|\\["\\\]])*'  # '"', '\' and ']' escaped
SD_PARAM = rf'{SD_NAME}="{PARAM_VALUE}"'
SD_ELEMENT = rf"\[{SD_NAME}(?: {SD_PARAM})*\]"
TIMESTAMP = (r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
             r"T(?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)(?:\.\d{1,6})?"
             r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)")
HEADER = (rf"<(?P<prival>\d{{1,3}})>(?P<version>[1-9]\d{{0,2}}) "
          rf"(?P<timestamp>{NIL}|{TIMESTAMP}) (?P<hostname>{NIL}|{PRINTUSASCII}{{1,255}}) "
          rf"(?P<app>{NIL}|{PRINTUSASCII}{{1,48}}) (?P<procid>{NIL}|{PRINTUSASCII}{{1,128}}) "
          rf"(?P<msgid>{NIL}|{PRINTUSASCII}{{1,32}})")
SYSLOG_MSG = re.compile(
    rf"{HEADER} (?P<sd>{NIL}|(?:{SD_ELEMENT})+)(?: (?P<msg>\ufeff.*))?\Z", re.DOTALL)
PARAM = re.compile(rf'(?P<name>{SD_NAME})="(?P<value>{PARAM_VALUE})"')
SD_ID = re.compile(rf"\[(?P<id>{SD_NAME})")


def parse(raw: bytes) -> dict:
    """The message's parts, or an AssertionError naming what does not match."""
    text = raw.decode("utf-8")
    match = SYSLOG_MSG.match(text)
    assert match, f"not RFC 5424: {text!r}"
    assert 0 <= int(match["prival"]) <= 191
    params = {m["name"]: re.sub(r'\\(["\\\]])', r"\1", m["value"])
              for m in PARAM.finditer(match["sd"])}
    return {**match.groupdict(), "sd_id": SD_ID.match(match["sd"])["id"], "params": params,
            "text": match["msg"][1:] if match["msg"] else ""}
