"""Platform-neutral presentation helpers shared by every frontend's renderer."""
