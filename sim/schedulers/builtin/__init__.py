"""The built-in schedulers, one module (or package) each, registering itself with
``@register_scheduler``."""
