"""Text rules shared by the write and the read path: folding to a search form, segmentation."""
