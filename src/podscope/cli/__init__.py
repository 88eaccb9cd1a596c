"""podscope.cli"""
