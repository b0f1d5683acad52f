import sys
from pathlib import Path

# test helper modules (synthetic.py, enginekit.py) import by plain name
sys.path.insert(0, str(Path(__file__).parent))
