import segno
from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def qr_svg(text: str) -> str:
    """An inline SVG QR code (segno escapes the content itself)."""
    return mark_safe(segno.make(text, error="m").svg_inline(scale=4))
