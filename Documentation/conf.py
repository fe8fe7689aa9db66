# SPDX-License-Identifier: GPL-2.0
#
# Sphinx settings for rvisor's documentation: as few as the build needs.
# `make lint` builds it with -W -n, so a malformed table, a title
# underline too short or a :doc: or :ref: target that does not exist is
# an error (scripts/lint).

project = "rvisor"
master_doc = "index"
# Everything is plain reStructuredText, as in the kernel's Documentation/.
extensions = []
exclude_patterns = []
html_theme = "alabaster"
