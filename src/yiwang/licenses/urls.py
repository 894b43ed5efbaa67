from yiwang.licenses.views import console, portal

portal_patterns = portal.patterns
console_patterns = console.patterns
