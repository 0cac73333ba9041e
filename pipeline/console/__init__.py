"""The office's console in the browser (``pipeline serve``): the month at a glance, files dropped
in and judged at once, the operations one click away, on the same workspace the commands use."""
