"""What a scene's files give: the asset catalog (meshes, landmarks, resting poses, images), mesh
helpers that need no catalog (MeshLookup), the OBJ reader, input hashes for resuming.
"""
