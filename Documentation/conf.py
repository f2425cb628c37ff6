# SPDX-License-Identifier: GPL-2.0
#
# Sphinx configuration of ivhost's documentation, kept to what Debian 12's
# python3-sphinx (5.3) has without extra packages.
#
#   sphinx-build -W -b html Documentation OUTDIR     (or: make htmldocs)

project = 'ivhost'
copyright = 'The ivhost authors'
extensions = []
master_doc = 'index'
source_suffix = '.rst'
exclude_patterns = ['output']
highlight_language = 'none'
html_theme = 'classic'
html_static_path = []
html_show_sourcelink = False
