"""Small curated data files shipped with the course (installed as ``course_utils.shipped_data``).

See ``data/README.md`` for every file, its columns, sources and licences.
"""
